// Metrics of the engines as an OpenTelemetry-friendly snapshot: PeerTube's own
// `peertube_viewers_total` gauge (attributes `viewerOrigin`, `videoOrigin`, as PeerTube's
// ViewersObserversBuilder reports it) plus the engine health figures of getInternalStats().
'use strict'

const SCOPES = ['local', 'remote']

/** Health figures: [field of getInternalStats(), metric name, kind, unit, description]. */
const HEALTH = [
  ['cachedViewers', 'peertube_native_views_cached_viewers', 'gauge', '{viewer}', 'Viewer stats held in memory'],
  ['pendingWrites', 'peertube_native_views_pending_writes', 'gauge', '{viewer}', 'Viewer stats waiting to be written to Redis'],
  ['inFlight', 'peertube_native_views_in_flight', 'gauge', '{viewer}', 'Viewer stats being persisted by the host'],
  ['viewers', 'peertube_native_views_viewer_entries', 'gauge', '{viewer}', 'Viewer counter entries (local and remote)'],
  ['pendingViews', 'peertube_native_views_pending_views', 'gauge', '{view}', 'Views decided while Redis was down, not yet written'],
  ['pendingFederation', 'peertube_native_views_pending_federation', 'gauge', '{activity}', 'View activities waiting for sendView'],
  ['lastSyncMs', 'peertube_native_views_last_sync_duration', 'gauge', 'ms', 'Duration of the last write-behind sync'],
  ['lastProcessMs', 'peertube_native_views_last_process_duration', 'gauge', 'ms', 'Duration of the last viewer stats processing pass'],
  ['redisErrors', 'peertube_native_views_redis_errors', 'counter', '{error}', 'Redis errors since start'],
  ['callbackErrors', 'peertube_native_views_callback_errors', 'counter', '{error}', 'Failed host callbacks since start'],
  ['droppedHeartbeats', 'peertube_native_views_dropped_heartbeats', 'counter', '{heartbeat}', 'Heartbeats of new viewers dropped at maxPendingWrites'],
  ['knownMembers', 'peertube_native_views_known_members', 'gauge', '{viewer}', 'Viewers the engine knows Redis holds (new viewers need no Redis read)'],
]

/**
 * A snapshot of `source` (a VideoViewsManager, or a VideoViewerCounters / VideoViewerStats /
 * VideoViews: what it has is reported): `[{ name, description, unit, kind, points: [{ value,
 * attributes }] }]`, `kind` being `'gauge'` or `'counter'` (monotonic since start).
 */
function collectMetrics(source) {
  const metrics = []
  if (typeof source.getTotalViewers === 'function') {
    const points = []
    for (const viewerScope of SCOPES) {
      for (const videoScope of SCOPES) {
        points.push({ value: source.getTotalViewers({ viewerScope, videoScope }), attributes: { viewerOrigin: viewerScope, videoOrigin: videoScope } })
      }
    }
    metrics.push({ name: 'peertube_viewers_total', description: 'Total viewers on the instance', unit: '{viewer}', kind: 'gauge', points })
  }
  const health = typeof source.getInternalStats === 'function' ? source.getInternalStats() : {}
  for (const [field, name, kind, unit, description] of HEALTH) {
    if (typeof health[field] === 'number') metrics.push({ name, description, unit, kind, points: [{ value: health[field], attributes: {} }] })
  }
  return metrics
}

/**
 * Registers the snapshot's metrics as observable instruments of an OpenTelemetry `Meter`
 * (`@opentelemetry/api`), read at each collection: `observeMetrics(meter, manager)`.
 */
function observeMetrics(meter, source) {
  for (const metric of collectMetrics(source)) {
    const create = metric.kind === 'counter' ? 'createObservableCounter' : 'createObservableGauge'
    meter[create](metric.name, { description: metric.description, unit: metric.unit }).addCallback((result) => {
      const current = collectMetrics(source).find((m) => m.name === metric.name)
      for (const point of current ? current.points : []) result.observe(point.value, point.attributes)
    })
  }
}

/** The snapshot in Prometheus' text exposition format (for a health or /metrics route). */
function toPrometheusText(metrics) {
  const lines = []
  for (const metric of metrics) {
    const name = metric.kind === 'counter' ? `${metric.name}_total` : metric.name
    lines.push(`# HELP ${name} ${metric.description}`, `# TYPE ${name} ${metric.kind}`)
    for (const { value, attributes } of metric.points) {
      const labels = Object.entries(attributes).map(([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`))}"`)
      lines.push(`${name}${labels.length ? `{${labels.join(',')}}` : ''} ${value}`)
    }
  }
  return lines.join('\n') + '\n'
}

module.exports = { collectMetrics, observeMetrics, toPrometheusText }
