// The engine-bound entries (`addLocalViewerFunction()`, `processLocalViewFunction()`): plain
// functions that carry their engine, called by index.js on every heartbeat. They must answer
// exactly as the object methods do, reject bad input without changing anything, ignore
// their receiver, keep their engine alive, and be released by the GC without harm.
const v8 = require('node:v8')
const vm = require('node:vm')
const { VideoViewerStats, VideoViewerCounters, VideoViewsManager } = require('../index.js')
const { redisSection, inspector, uniqueHost } = require('./helpers/env')

v8.setFlagsFromString('--expose-gc')
const collectGarbage = vm.runInNewContext('gc')

let redis
const closing = []
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await Promise.all(closing.map((c) => c.close()))
  await redis.quit()
})

function stats() {
  const webserverHost = uniqueHost()
  const engine = new VideoViewerStats({ redis: redisSection(), webserverHost, geoIp: null, autoStart: false, saveViewerStats: async () => {} })
  closing.push(engine)
  return { engine, prefix: `redis-${webserverHost}-` }
}

function counters() {
  const notified = []
  const engine = new VideoViewerCounters({
    viewersFederationV2: true,
    autoStart: false,
    loadVideo: async () => null,
    notifyClients: (video, total) => notified.push([video.id, total]),
    sendView: async () => {},
  })
  closing.push(engine)
  return { engine, notified }
}

function manager() {
  const webserverHost = uniqueHost()
  const engine = new VideoViewsManager({
    redis: redisSection(),
    webserverHost,
    geoIp: null,
    autoStart: false,
    viewersFederationV2: true,
    host: {
      saveViewerStats: async () => {},
      loadVideo: async () => null,
      notifyClients: () => {},
      sendView: async () => {},
      incrementVideoViews: async () => {},
      saveHourlyViews: async () => {},
    },
  })
  closing.push(engine)
  return { engine, prefix: `redis-${webserverHost}-` }
}

const UUID = 'aaaaaaaa-0000-4000-8000-000000000001'

async function rejection(fn) {
  let result
  try {
    result = fn()
  } catch (err) {
    throw new Error(`threw synchronously instead of rejecting: ${err && err.message}`)
  }
  // Native Promises and errors come from Node's realm, not jest's: compare by tag and name.
  expect(Object.prototype.toString.call(result)).toBe('[object Promise]')
  return result.then(
    () => {
      throw new Error('resolved')
    },
    (err) => err,
  )
}

describe('VideoViewerStats.addLocalViewerFunction()', () => {
  test('records heartbeats like addLocalViewer: undefined from memory, watch time, Redis JSON at sync', async () => {
    const { engine, prefix } = stats()
    const beat = engine.addLocalViewerFunction()
    expect(typeof beat).toBe('function')
    expect(beat.name).toBe('addLocalViewer')
    await beat(7, UUID, 0, '1.2.3.4', 'bound-session-1', 'seek')
    // The viewer is cached now: answered synchronously.
    expect(beat(7, UUID, 5, '1.2.3.4', 'bound-session-1', undefined)).toBeUndefined()
    expect(beat(7, UUID, 12, '1.2.3.4', 'bound-session-1', null)).toBeUndefined()
    expect(await engine.getWatchTime(7, 'bound-session-1')).toBe(12)
    expect(await engine.syncRedisWrites()).toEqual({ written: 1 })
    const json = JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-bound-session-1-7`))
    expect(json).toMatchObject({ videoId: 7, watchTime: 12, watchSections: [{ start: 0, end: 12 }] })
  })

  test('ignores its receiver and extra arguments', async () => {
    const { engine } = stats()
    const beat = engine.addLocalViewerFunction()
    await beat.call(null, 3, UUID, 0, null, 'bound-recv', undefined, 'extra', 42)
    expect(beat.call({ not: 'an engine' }, 3, UUID, 20, null, 'bound-recv')).toBeUndefined()
    expect(await engine.getWatchTime(3, 'bound-recv')).toBe(20)
  })

  test.each([
    ['no arguments', [], TypeError, /^video\.id must be a number/],
    ['video id as string', ['1', UUID, 0, null, 's'], TypeError, /^video\.id must be a number/],
    ['video id NaN', [NaN, UUID, 0, null, 's'], RangeError, /^video\.id/],
    ['negative currentTime', [1, UUID, -1, null, 's'], RangeError, /^currentTime/],
    ['currentTime Infinity', [1, UUID, Infinity, null, 's'], RangeError, /^currentTime/],
    ['sessionId missing', [1, UUID, 0, null], TypeError, /^sessionId/],
    ['sessionId empty', [1, UUID, 0, null, ''], RangeError, /^sessionId/],
    ['sessionId oversized', [1, UUID, 0, null, 'x'.repeat(10_000)], RangeError, /^sessionId/],
    ['unknown viewEvent', [1, UUID, 0, null, 's', 'pause'], RangeError, /^viewEvent/],
    ['uuid oversized', [1, 'u'.repeat(129), 0, null, 's'], RangeError, /^video\.uuid/],
    ['ip as number', [1, UUID, 0, 1234, 's'], TypeError, /^ip/],
  ])('%s: rejects INVALID_ARGUMENT and changes nothing', async (_, args, type, message) => {
    const { engine } = stats()
    const err = await rejection(() => engine.addLocalViewerFunction()(...args))
    expect(err.name).toBe(type.name)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(message)
    expect(engine.getInternalStats()).toMatchObject({ cachedViewers: 0, pendingWrites: 0 })
  })

  test('after close() it rejects with CLOSED', async () => {
    const { engine } = stats()
    const beat = engine.addLocalViewerFunction()
    await engine.close()
    const err = await rejection(() => beat(1, UUID, 0, null, 'after-close'))
    expect(err.code).toBe('CLOSED')
  })

  test('survives the collection of other bound functions and of its instance', async () => {
    const { engine, prefix } = stats()
    const beat = engine.addLocalViewerFunction()
    await beat(9, UUID, 0, null, 'bound-alive')
    for (let i = 0; i < 1000; i++) engine.addLocalViewerFunction()
    collectGarbage()
    await new Promise((resolve) => setImmediate(resolve))
    expect(beat(9, UUID, 30, null, 'bound-alive')).toBeUndefined()
    await engine.syncRedisWrites()
    expect(JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-bound-alive-9`)).watchTime).toBe(30)

    // An instance that is gone: its bound function still holds the engine (and its viewer).
    let orphan = new VideoViewerStats({ redis: redisSection(), webserverHost: uniqueHost(), geoIp: null, autoStart: false, saveViewerStats: async () => {} })
    let orphanBeat = orphan.addLocalViewerFunction()
    await orphanBeat(9, UUID, 0, null, 'orphan')
    orphan = null
    collectGarbage()
    await new Promise((resolve) => setImmediate(resolve))
    collectGarbage()
    expect(orphanBeat(9, UUID, 10, null, 'orphan')).toBeUndefined()
    orphanBeat = null
    collectGarbage()
    await new Promise((resolve) => setImmediate(resolve))
  })
})

describe('VideoViewerCounters.addLocalViewerFunction()', () => {
  test('answers true for a new viewer, false for a known one, and counts it', async () => {
    const { engine } = counters()
    const join = engine.addLocalViewerFunction()
    expect(join(1, UUID, false, 'c-1')).toBe(true)
    expect(join(1, UUID, false, 'c-1')).toBe(false)
    expect(join(1, UUID, undefined, 'c-2')).toBe(true)
    expect(engine.getTotalViewersOf({ id: 1 })).toBe(2)
  })

  test.each([
    ['no arguments', [], TypeError, /^video\.id/],
    ['uuid missing', [1, undefined, false, 'c'], TypeError, /^video\.uuid/],
    ['remote as string', [1, UUID, 'yes', 'c'], TypeError, /^video\.remote/],
    ['sessionId as number', [1, UUID, false, 5], TypeError, /^sessionId/],
  ])('%s: rejects INVALID_ARGUMENT and adds no viewer', async (_, args, type, message) => {
    const { engine } = counters()
    const err = await rejection(() => engine.addLocalViewerFunction()(...args))
    expect(err.name).toBe(type.name)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(message)
    expect(engine.getTotalViewersOf({ id: 1 })).toBe(0)
  })
})

describe('VideoViewsManager.processLocalViewFunction()', () => {
  test('answers like processLocalView: a viewer on the first heartbeat, a view after 10 s', async () => {
    const { engine, prefix } = manager()
    const view = engine.processLocalViewFunction()
    expect(await view(4, UUID, false, 100, false, 0, '1.2.3.4', 'mgr-bound', 'seek')).toEqual({ successView: false, successViewer: true })
    expect(await view(4, UUID, false, 100, false, 5, '1.2.3.4', 'mgr-bound', undefined)).toEqual({ successView: false, successViewer: false })
    expect(await view(4, UUID, false, 100, false, 11, '1.2.3.4', 'mgr-bound', undefined)).toEqual({ successView: true, successViewer: false })
    expect(engine.getTotalViewersOf({ id: 4 })).toBe(1)
    expect(await engine.getWatchTime(4, 'mgr-bound')).toBe(11)
    await engine.close()
    expect(JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-mgr-bound-4`)).watchTime).toBe(11)
  })

  test('currentTime beyond the duration rejects INVALID_ARGUMENT before any change', async () => {
    const { engine } = manager()
    const err = await rejection(() => engine.processLocalViewFunction()(4, UUID, false, 100, false, 500, '1.2.3.4', 'mgr-bad'))
    expect(err.name).toBe('RangeError')
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(engine.getTotalViewersOf({ id: 4 })).toBe(0)
    expect(await engine.getWatchTime(4, 'mgr-bad')).toBe(0)
  })
})
