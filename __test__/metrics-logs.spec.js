// Metrics (OpenTelemetry-friendly snapshot, Prometheus text) and logs through an injected
// winston-style logger: tags ['views', videoUuid], `this` bound, debug filtered natively.
const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { VideoViewsManager, VideoViewerStats, collectMetrics, observeMetrics, toPrometheusText } = require('../index.js')
const { redisSection, uniqueHost } = require('./helpers/env')

const LOCAL = { id: 1, uuid: 'eeeeeeee-0000-4000-8000-000000000001', remote: false, isLive: true }
const REMOTE = { id: 2, uuid: 'eeeeeeee-0000-4000-8000-000000000002', remote: true, isLive: true }

function makeManager(extra = {}) {
  return new VideoViewsManager({
    redis: redisSection(),
    webserverHost: uniqueHost(),
    autoStart: false,
    viewersFederationV2: true,
    host: {
      saveViewerStats: async () => {},
      loadVideo: async (id) => ({ 1: LOCAL, 2: REMOTE })[id] ?? null,
      notifyClients: () => {},
      sendView: async () => {},
      incrementVideoViews: async () => {},
      saveHourlyViews: async () => {},
    },
    ...extra,
  })
}

const value = (metrics, name, attributes = {}) =>
  metrics.find((m) => m.name === name)?.points.find((p) => Object.entries(attributes).every(([k, v]) => p.attributes[k] === v))?.value

test('the snapshot reports peertube_viewers_total by origin and the health figures', async () => {
  const manager = makeManager()
  try {
    for (const sessionId of ['m-a', 'm-b']) await manager.processLocalView({ video: LOCAL, currentTime: 1, sessionId })
    await manager.processLocalView({ video: REMOTE, currentTime: 1, sessionId: 'm-c' })
    const expires = Date.now() + 60_000
    for (const viewerId of ['r-1', 'r-2', 'r-3']) await manager.processRemoteView({ video: LOCAL, viewerId, viewerExpires: expires })

    const metrics = manager.getMetrics()
    expect(collectMetrics(manager)).toEqual(metrics)
    expect(value(metrics, 'peertube_viewers_total', { viewerOrigin: 'local', videoOrigin: 'local' })).toBe(2)
    expect(value(metrics, 'peertube_viewers_total', { viewerOrigin: 'local', videoOrigin: 'remote' })).toBe(1)
    expect(value(metrics, 'peertube_viewers_total', { viewerOrigin: 'remote', videoOrigin: 'local' })).toBe(3)
    expect(value(metrics, 'peertube_viewers_total', { viewerOrigin: 'remote', videoOrigin: 'remote' })).toBe(0)
    expect(value(metrics, 'peertube_native_views_cached_viewers')).toBe(3)
    expect(value(metrics, 'peertube_native_views_pending_writes')).toBe(3)
    expect(value(metrics, 'peertube_native_views_redis_errors')).toBe(0)
    expect(metrics.find((m) => m.name === 'peertube_native_views_redis_errors').kind).toBe('counter')

    const text = toPrometheusText(metrics)
    expect(text).toContain('# TYPE peertube_viewers_total gauge\n')
    expect(text).toContain('peertube_viewers_total{viewerOrigin="remote",videoOrigin="local"} 3\n')
    expect(text).toContain('peertube_native_views_cached_viewers 3\n')
    expect(text).toContain('# TYPE peertube_native_views_redis_errors_total counter\npeertube_native_views_redis_errors_total 0\n')

    // An OpenTelemetry Meter gets observable instruments read at each collection.
    const instruments = {}
    const meter = {
      createObservableGauge: (name, options) => (instruments[name] = { kind: 'gauge', options, callbacks: [] }),
      createObservableCounter: (name, options) => (instruments[name] = { kind: 'counter', options, callbacks: [] }),
    }
    for (const create of Object.keys(meter)) {
      const inner = meter[create]
      meter[create] = (name, options) => {
        const instrument = inner(name, options)
        return { addCallback: (cb) => instrument.callbacks.push(cb) }
      }
    }
    observeMetrics(meter, manager)
    await manager.processLocalView({ video: LOCAL, currentTime: 1, sessionId: 'm-d' })
    const observed = []
    instruments.peertube_viewers_total.callbacks[0]({ observe: (v, attributes) => observed.push([v, attributes]) })
    expect(observed).toContainEqual([3, { viewerOrigin: 'local', videoOrigin: 'local' }])
    expect(instruments.peertube_native_views_callback_errors.kind).toBe('counter')
    expect(instruments.peertube_native_views_last_sync_duration.options.unit).toBe('ms')
  } finally {
    await manager.close()
  }
})

test('the package imports by name from ESM', () => {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `import * as ns from ${JSON.stringify(path.join(__dirname, '..', 'index.js'))}; console.log(Object.keys(ns).sort().join(','))`], { encoding: 'utf8' })
  expect(out.trim().split(',')).toEqual(expect.arrayContaining(['VideoViewerStats', 'VideoViewerCounters', 'VideoViews', 'VideoViewsManager', 'getNativeMemory', 'collectMetrics', 'observeMetrics', 'toPrometheusText']))
})

/** A class-based logger whose methods use `this` (winston's do too). */
class RecordingLogger {
  constructor(level) {
    this.level = level
    this.records = []
  }
  debug(message, meta) {
    this.records.push({ level: 'debug', message, meta })
  }
  info(message, meta) {
    this.records.push({ level: 'info', message, meta })
  }
  warn(message, meta) {
    this.records.push({ level: 'warn', message, meta })
  }
  error(message, meta) {
    this.records.push({ level: 'error', message, meta })
  }
}

async function logSomething(level) {
  const logger = new RecordingLogger(level)
  const stats = new VideoViewerStats({ redis: redisSection(), webserverHost: uniqueHost(), autoStart: false, logger, saveViewerStats: async () => {} })
  try {
    // 101 sections: the 101st seek is refused with a warning tagged with the video's uuid.
    for (let t = 0; t <= 100; t++) await stats.addLocalViewer({ video: { id: 5, uuid: LOCAL.uuid }, currentTime: t * 2, sessionId: 'log-1', viewEvent: 'seek' })
    await stats.processViewerStats() // logs "Processing viewer statistics." at debug
  } finally {
    await stats.close()
  }
  // Records arrive through the event loop.
  await new Promise((resolve) => setTimeout(resolve, 50))
  return logger.records
}

test('logs reach a logger whose methods use `this`, tagged [views, uuid]; debug is dropped natively above debug', async () => {
  const atInfo = await logSomething('info')
  expect(atInfo.filter((r) => r.level === 'debug')).toEqual([])
  const warning = atInfo.find((r) => r.level === 'warn')
  expect(warning.message).toBe('Too much watch section to store for a viewer, skipping this one')
  expect(warning.meta).toMatchObject({ tags: ['views', LOCAL.uuid], sessionId: 'log-1', videoId: 5 })

  const atDebug = await logSomething('debug')
  expect(atDebug.find((r) => r.level === 'debug' && r.message === 'Processing viewer statistics.')?.meta).toMatchObject({ tags: ['views'] })
})
