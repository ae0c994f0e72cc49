// Host callback misbehaviour (issue 6, item 6): callbacks that never settle (cut off by a
// configurable callbackTimeout), return non-Promises, throw synchronously or reject (fire-and-
// forget ones too: notifyClients, the logger: a rejection nobody handles can end Node). With the
// engines' own timers running, none of it blocks a timer, loses a viewer or crashes Node.
const { VideoViewsManager } = require('../../index.js')
const { inspector, redisSection, uniqueHost, sleep, waitFor } = require('../helpers/env')

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

const MISBEHAVIOURS = {
  hang: () => new Promise(() => {}),
  throw: () => {
    throw new Error('thrown synchronously')
  },
  reject: () => Promise.reject(new Error('rejected')),
  rejectNonError: () => Promise.reject('a string'), // eslint-disable-line prefer-promise-reject-errors
  nonPromise: () => 42,
  undefined: () => undefined,
}

test('every host callback misbehaving at once: the timers go on, nothing is lost, Node survives', async () => {
  const webserverHost = uniqueHost()
  const prefix = `redis-${webserverHost}-`
  const video = { id: 9, uuid: 'bbbbbbbb-0000-4000-8000-000000000009', remote: false, isLive: true }
  const stored = new Map()
  let mode = 'hang'
  const calls = { save: 0, load: 0, notify: 0, send: 0, increment: 0, hourly: 0 }
  const misbehave = (name, fallback) => (...args) => {
    calls[name]++
    if (mode === 'good') return fallback(...args)
    return MISBEHAVIOURS[mode]()
  }
  const manager = new VideoViewsManager({
    redis: redisSection(),
    webserverHost,
    autoStart: true,
    callbackTimeout: 300,
    syncRedisInterval: 100,
    viewerStatsLifetime: 400,
    viewerCounterLifetime: 400,
    localBufferUpdateInterval: 300,
    countViewAfter: '1 second',
    viewersFederationV2: true,
    logger: {
      error: () => {
        throw new Error('the logger throws too')
      },
      warn: async () => {
        throw new Error('and an async logger rejects')
      },
    },
    host: {
      saveViewerStats: (viewer) => {
        // A non-Promise value or undefined means "stored", as a resolved Promise does.
        if (['good', 'nonPromise', 'undefined'].includes(mode)) stored.set(viewer.sessionId, [...(stored.get(viewer.sessionId) ?? []), viewer])
        return misbehave('save', async () => {})()
      },
      loadVideo: misbehave('load', async () => video),
      notifyClients: misbehave('notify', () => {}),
      sendView: misbehave('send', async () => {}),
      incrementVideoViews: misbehave('increment', async () => {}),
      saveHourlyViews: misbehave('hourly', async () => {}),
    },
  })
  try {
    for (const next of Object.keys(MISBEHAVIOURS)) {
      mode = next
      const sessionId = `cb-${next}`
      const started = Date.now()
      await manager.processLocalView({ video, currentTime: 0, sessionId, viewEvent: 'seek' })
      await manager.processLocalView({ video, currentTime: 2, sessionId })
      // The sync timer writes the viewer within a few ticks, whatever the callbacks do.
      await waitFor(async () => (await redis.get(`${prefix}local-video-viewer-stats-${sessionId}-9`)) !== null, { timeout: 2000 }).catch(() => { throw new Error(`${next}: not synced`) })
      const syncedIn = Date.now() - started
      // The counters' cleanup timer forgets the viewer once it expired.
      await waitFor(() => manager.getTotalViewersOf(video) === 0, { timeout: 3000 }).catch((e) => { throw new Error(`${next}: viewers ${manager.getTotalViewersOf(video)}`) })
      expect({ mode: next, syncedIn: syncedIn < 1500 }).toEqual({ mode: next, syncedIn: true })
    }
    const failed = manager.getInternalStats().callbackErrors
    expect(failed).toBeGreaterThan(0)

    // Every misbehaving kind left the viewers in Redis except the two that mean "stored"
    // (a non-Promise value, undefined); once the host behaves, the processing timer stores them.
    mode = 'good'
    await waitFor(() => stored.size === Object.keys(MISBEHAVIOURS).length, { timeout: 5000 })
    await waitFor(async () => (await redis.scard(`${prefix}local-video-viewer-stats-keys`)) === 0, { timeout: 3000 })
    for (const [sessionId, viewers] of stored) {
      expect({ sessionId, watchTimes: viewers.map((v) => v.watchTime) }).toEqual({ sessionId, watchTimes: [2] })
    }
    console.log(`callback errors counted: ${failed}; calls: ${JSON.stringify(calls)}`)
    expect(calls.save).toBeGreaterThan(Object.keys(MISBEHAVIOURS).length)
    expect(calls.notify).toBeGreaterThan(0)
  } finally {
    await manager.close()
  }
  await sleep(50)
}, 30_000)
