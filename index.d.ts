/* The public types: generated from the Rust doc comments into binding.d.ts (napi build), plus the
   hand-written JS layer (index.js, metrics.js). */
export * from './binding'

/** One observation of a metric. */
export interface MetricPoint {
  value: number
  attributes: Record<string, string>
}

/** A metric of the snapshot, in OpenTelemetry's terms. */
export interface Metric {
  /** `peertube_viewers_total` (PeerTube's gauge) or `peertube_native_views_*`. */
  name: string
  description: string
  /** UCUM-style unit: `ms`, `{viewer}`, ... */
  unit: string
  /** `counter`: monotonic since start; `gauge`: current value. */
  kind: 'gauge' | 'counter'
  points: MetricPoint[]
}

/** What collectMetrics reads: any engine (or anything with these methods). */
export interface MetricsSource {
  getTotalViewers?(options: { viewerScope: 'local' | 'remote'; videoScope: 'local' | 'remote' }): number
  getInternalStats?(): object
}

/** Snapshot: `peertube_viewers_total` by `viewerOrigin`/`videoOrigin`, plus the health figures. */
export declare function collectMetrics(source: MetricsSource): Metric[]

/** Registers the snapshot as observable instruments of an OpenTelemetry `Meter`. */
export declare function observeMetrics(
  meter: {
    createObservableGauge(name: string, options?: { description?: string; unit?: string }): { addCallback(cb: (result: { observe(value: number, attributes?: Record<string, string>): void }) => void): void }
    createObservableCounter(name: string, options?: { description?: string; unit?: string }): { addCallback(cb: (result: { observe(value: number, attributes?: Record<string, string>): void }) => void): void }
  },
  source: MetricsSource,
): void

/** The snapshot in Prometheus' text exposition format. */
export declare function toPrometheusText(metrics: Metric[]): string

declare module './binding' {
  interface VideoViewsManager {
    /** `collectMetrics(this)`. */
    getMetrics(): Metric[]
  }
}
