// VideoViewerStats against a real redis-server: sections, watch time, write-behind sync,
// processing, byte-compatibility with PeerTube's Redis layout, restart and interop.
const { VideoViewerStats } = require('../index.js')
const { redisSection, inspector, uniqueHost, recordingLogger, sleep, waitFor } = require('./helpers/env')

const SET = 'local-video-viewer-stats-keys'
const FIELD_ORDER = ['firstUpdated', 'lastUpdated', 'watchSections', 'watchTime', 'country', 'subdivisionName', 'videoId']

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

const engines = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close().catch(() => {})))
})

function makeStats(options = {}) {
  const saved = []
  const host = options.webserverHost ?? uniqueHost()
  const stats = new VideoViewerStats({
    redis: redisSection(),
    webserverHost: host,
    geoIp: null,
    autoStart: false,
    viewerStatsLifetime: 300,
    saveViewerStats: async (viewer) => {
      saved.push(viewer)
    },
    ...options,
  })
  engines.push(stats)
  return { stats, saved, prefix: `redis-${host}-`, host }
}

/** What PeerTube's JSON.stringify would write for this object, fields in PeerTube's order. */
function peertubeJson(o) {
  return JSON.stringify({
    firstUpdated: o.firstUpdated,
    lastUpdated: o.lastUpdated,
    watchSections: o.watchSections.map((s) => ({ start: s.start, end: s.end })),
    watchTime: o.watchTime,
    country: o.country,
    subdivisionName: o.subdivisionName,
    videoId: o.videoId,
  })
}

const video = { id: 42, uuid: '0b9a8f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', remote: false }

describe('heartbeats and the Redis format', () => {
  test('sections, watch time and the exact PeerTube JSON under the PeerTube key', async () => {
    const { stats, prefix } = makeStats()
    const before = Date.now()
    for (const currentTime of [0, 5, 10]) {
      await stats.addLocalViewer({ video, currentTime, ip: '1.2.3.4', sessionId: 'session-a' })
    }
    const after = Date.now()
    expect(await stats.getWatchTime(42, 'session-a')).toBe(10)

    // Nothing reaches Redis before the sync (write-behind).
    expect(await redis.exists(`${prefix}local-video-viewer-stats-session-a-42`)).toBe(0)
    expect(await stats.syncRedisWrites()).toEqual({ written: 1 })

    expect(await redis.smembers(`${prefix}${SET}`)).toEqual(['local-video-viewer-stats-session-a-42'])
    const raw = await redis.get(`${prefix}local-video-viewer-stats-session-a-42`)
    const parsed = JSON.parse(raw)
    expect(Object.keys(parsed)).toEqual(FIELD_ORDER)
    expect(raw).toBe(peertubeJson(parsed))
    expect(parsed).toMatchObject({
      watchSections: [{ start: 0, end: 10 }],
      watchTime: 10,
      country: null,
      subdivisionName: null,
      videoId: 42,
    })
    expect(parsed.firstUpdated).toBeGreaterThanOrEqual(before)
    expect(parsed.lastUpdated).toBeGreaterThanOrEqual(parsed.firstUpdated)
    expect(parsed.lastUpdated).toBeLessThanOrEqual(after)
    // No TTL: PeerTube keeps viewer stats until they are processed.
    expect(await redis.pttl(`${prefix}local-video-viewer-stats-session-a-42`)).toBe(-1)
  })

  test('seek opens a new section, going back before the start opens one, end can move back', async () => {
    const { stats, prefix } = makeStats()
    const beat = (currentTime, viewEvent) =>
      stats.addLocalViewer({ video, currentTime, sessionId: 'seeker', ...(viewEvent ? { viewEvent } : {}) })
    await beat(0, 'seek')
    await beat(5)
    await beat(30, 'seek') // new section [30, 30]
    await beat(40) // [30, 40]
    await beat(20) // 30 > 20: new section [20, 20]
    await beat(25) // [20, 25]
    await beat(22) // end moves back: [20, 22]
    expect(await stats.getWatchTime(42, 'seeker')).toBe(5 + 10 + 2)
    await stats.syncRedisWrites()
    const parsed = JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-seeker-42`))
    expect(parsed.watchSections).toEqual([
      { start: 0, end: 5 },
      { start: 30, end: 40 },
      { start: 20, end: 22 },
    ])
    expect(parsed.watchTime).toBe(17)
  })

  test('a viewer with 100 sections is ignored: no section, no lastUpdated bump, a warning', async () => {
    const { logger, records } = recordingLogger()
    const { stats, prefix } = makeStats({ logger })
    for (let t = 0; t < 100; t++) {
      await stats.addLocalViewer({ video, currentTime: t * 2, sessionId: 'capped', viewEvent: 'seek' })
    }
    await stats.syncRedisWrites()
    const key = `${prefix}local-video-viewer-stats-capped-42`
    const full = await redis.get(key)
    expect(JSON.parse(full).watchSections).toHaveLength(100)
    await sleep(5)
    await stats.addLocalViewer({ video, currentTime: 500, sessionId: 'capped', viewEvent: 'seek' })
    await stats.addLocalViewer({ video, currentTime: 510, sessionId: 'capped' })
    expect(await stats.syncRedisWrites()).toEqual({ written: 0 })
    expect(await redis.get(key)).toBe(full)
    await waitFor(() => records.some((r) => r.message.startsWith('Too much watch section')))
    const warning = records.find((r) => r.message.startsWith('Too much watch section'))
    expect(warning.level).toBe('warn')
    expect(warning.meta.tags).toEqual(['views', video.uuid])
  })

  test('maxWatchSections is configurable, and the cap blocks even extending the last section', async () => {
    const { stats } = makeStats({ maxWatchSections: 2 })
    const beat = (currentTime, viewEvent) => stats.addLocalViewer({ video, currentTime, sessionId: 'small-cap', viewEvent })
    await beat(0)
    await beat(5) // [0, 5]
    await beat(10, 'seek') // [0, 5], [10, 10]: the cap of 2 is reached
    await beat(15) // ignored, like PeerTube: no extension to [10, 15]
    await beat(30, 'seek') // ignored
    expect(await stats.getWatchTime(42, 'small-cap')).toBe(5)
  })

  test('getWatchTime is 0 for unknown viewers and reads Redis on a cache miss', async () => {
    const { stats, prefix } = makeStats()
    expect(await stats.getWatchTime(42, 'nobody')).toBe(0)
    await redis.set(
      `${prefix}local-video-viewer-stats-elsewhere-42`,
      peertubeJson({ firstUpdated: 1, lastUpdated: 2, watchSections: [{ start: 3, end: 10 }], watchTime: 7, country: null, subdivisionName: null, videoId: 42 }),
    )
    expect(await stats.getWatchTime(42, 'elsewhere')).toBe(7)
  })

  test('the timers sync on their own and stop on close()', async () => {
    const { stats, prefix } = makeStats({ autoStart: true, syncRedisInterval: 50, viewerStatsLifetime: '1 hour' })
    await stats.addLocalViewer({ video, currentTime: 3, sessionId: 'timer' })
    const key = `${prefix}local-video-viewer-stats-timer-42`
    await waitFor(async () => (await redis.exists(key)) === 1, { timeout: 3000 })
    await stats.close()
    await stats.close() // idempotent
    await redis.del(key)
    await sleep(200)
    expect(await redis.exists(key)).toBe(0)
    await expect(stats.addLocalViewer({ video, currentTime: 4, sessionId: 'timer' })).rejects.toMatchObject({ code: 'CLOSED' })
  })

  test('close() flushes pending writes', async () => {
    const { stats, prefix } = makeStats({ syncRedisInterval: '1 hour' })
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'flush' })
    await stats.addLocalViewer({ video, currentTime: 7, sessionId: 'flush' })
    await stats.close()
    const parsed = JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-flush-42`))
    expect(parsed.watchSections).toEqual([{ start: 0, end: 7 }])
  })
})

describe('processing expired viewers', () => {
  test('an inactive viewer is handed to saveViewerStats once, then deleted from Redis', async () => {
    const { stats, saved, prefix } = makeStats()
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'done', ip: '1.2.3.4' })
    await stats.addLocalViewer({ video, currentTime: 8, sessionId: 'done' })
    await stats.addLocalViewer({ video: { id: 7 }, currentTime: 0, sessionId: 'done' })
    await stats.addLocalViewer({ video: { id: 7 }, currentTime: 2, sessionId: 'done' })
    await stats.syncRedisWrites()
    const json = JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-done-42`))

    // Still active: nothing happens.
    let report = await stats.processViewerStats()
    expect(report).toMatchObject({ scanned: 2, expired: 0, persisted: 0 })
    expect(saved).toHaveLength(0)

    await sleep(350)
    report = await stats.processViewerStats()
    expect(report).toMatchObject({ scanned: 2, expired: 2, persisted: 2, discarded: 0, failed: 0 })
    const byVideo = Object.fromEntries(saved.map((v) => [v.videoId, v]))
    expect(byVideo[42]).toEqual({
      videoId: 42,
      sessionId: 'done',
      firstUpdated: json.firstUpdated,
      lastUpdated: json.lastUpdated,
      watchSections: [{ start: 0, end: 8 }],
      watchTime: 8,
      country: null,
      subdivisionName: null,
    })
    expect(byVideo[7]).toMatchObject({ videoId: 7, watchTime: 2, watchSections: [{ start: 0, end: 2 }] })
    expect(await redis.exists(`${prefix}local-video-viewer-stats-done-42`)).toBe(0)
    expect(await redis.exists(`${prefix}local-video-viewer-stats-done-7`)).toBe(0)
    expect(await redis.scard(`${prefix}${SET}`)).toBe(0)

    // Processed viewers are gone, and so is the processing lease: a second pass does nothing.
    expect(await redis.exists(`${prefix}native-views-process-lease`)).toBe(0)
    expect(await stats.processViewerStats()).toMatchObject({ scanned: 0, persisted: 0, skipped: false })
    expect(saved).toHaveLength(2)
  })

  test('another process holding the processing lease: the pass is skipped and Redis left as it was; a lease left by a crash expires', async () => {
    const { stats, saved, prefix } = makeStats()
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'leased' })
    await stats.addLocalViewer({ video, currentTime: 6, sessionId: 'leased' })
    await stats.syncRedisWrites()
    const key = `${prefix}local-video-viewer-stats-leased-42`
    const json = await redis.get(key)
    await sleep(350)
    // What a process that crashed in the middle of a pass leaves: its lease, for its TTL.
    await redis.set(`${prefix}native-views-process-lease`, 'crashed-process', 'PX', 400)
    expect(await stats.processViewerStats()).toEqual({ scanned: 0, expired: 0, persisted: 0, discarded: 0, failed: 0, orphansRemoved: 0, skipped: true })
    expect(saved).toHaveLength(0)
    expect(await redis.get(key)).toBe(json)
    expect(await redis.smembers(`${prefix}${SET}`)).toEqual(['local-video-viewer-stats-leased-42'])
    expect(await redis.get(`${prefix}native-views-process-lease`)).toBe('crashed-process')
    await sleep(450)
    expect(await stats.processViewerStats()).toMatchObject({ scanned: 1, expired: 1, persisted: 1, skipped: false })
    expect(saved).toEqual([expect.objectContaining({ sessionId: 'leased', watchTime: 6 })])
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual([])
  })

  test('zero watch time: deleted from Redis without a saveViewerStats call', async () => {
    const { stats, saved, prefix } = makeStats()
    await stats.addLocalViewer({ video, currentTime: 12, sessionId: 'zero' })
    await stats.addLocalViewer({ video, currentTime: 12, sessionId: 'zero' })
    await stats.syncRedisWrites()
    expect(JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-zero-42`)).watchTime).toBe(0)
    await sleep(350)
    expect(await stats.processViewerStats()).toMatchObject({ expired: 1, persisted: 0, discarded: 1 })
    expect(saved).toHaveLength(0)
    expect(await redis.exists(`${prefix}local-video-viewer-stats-zero-42`)).toBe(0)
    expect(await redis.sismember(`${prefix}${SET}`, 'local-video-viewer-stats-zero-42')).toBe(0)
  })

  test('a rejecting, throwing or hanging callback keeps the viewer for the next pass', async () => {
    const { logger, records } = recordingLogger()
    let mode = 'reject'
    const saved = []
    const { stats, prefix } = makeStats({
      logger,
      callbackTimeout: 200,
      saveViewerStats: (viewer) => {
        if (mode === 'reject') return Promise.reject(new Error('database is down'))
        if (mode === 'throw') throw new TypeError('sync failure')
        if (mode === 'hang') return new Promise(() => {})
        saved.push(viewer)
        return undefined // a plain return value counts as success
      },
    })
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'retry' })
    await stats.addLocalViewer({ video, currentTime: 6, sessionId: 'retry' })
    await sleep(350)
    const key = `${prefix}local-video-viewer-stats-retry-42`

    expect(await stats.processViewerStats()).toMatchObject({ expired: 1, persisted: 0, failed: 1 })
    expect(await redis.exists(key)).toBe(1)
    await waitFor(() => records.some((r) => r.level === 'error' && r.meta.err?.message === 'database is down'))

    mode = 'throw'
    expect(await stats.processViewerStats()).toMatchObject({ expired: 1, failed: 1 })
    await waitFor(() => records.some((r) => r.level === 'error' && r.meta.err?.message === 'sync failure'))

    mode = 'hang'
    expect(await stats.processViewerStats()).toMatchObject({ expired: 1, failed: 1 })
    expect(await redis.exists(key)).toBe(1)
    expect(stats.getInternalStats().callbackErrors).toBe(3)

    mode = 'ok'
    expect(await stats.processViewerStats()).toMatchObject({ expired: 1, persisted: 1, failed: 0 })
    expect(saved).toHaveLength(1)
    expect(saved[0]).toMatchObject({ sessionId: 'retry', watchSections: [{ start: 0, end: 6 }], watchTime: 6 })
    expect(await redis.exists(key)).toBe(0)
  })

  test('never more than processConcurrency saveViewerStats calls in flight, and every viewer persisted', async () => {
    let inFlight = 0
    let maxInFlight = 0
    const saved = []
    const { stats } = makeStats({
      processConcurrency: 3,
      saveViewerStats: async (viewer) => {
        inFlight++
        maxInFlight = Math.max(maxInFlight, inFlight)
        await sleep(5 + (viewer.watchTime % 3))
        saved.push(viewer.sessionId)
        inFlight--
      },
    })
    for (let i = 0; i < 20; i++) {
      await stats.addLocalViewer({ video, currentTime: 0, sessionId: `pool-${i}` })
      await stats.addLocalViewer({ video, currentTime: 1 + i, sessionId: `pool-${i}` })
    }
    await sleep(350)
    expect(await stats.processViewerStats()).toMatchObject({ expired: 20, persisted: 20, failed: 0 })
    expect(maxInFlight).toBe(3)
    expect(saved.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `pool-${i}`).sort())
  })

  test('a heartbeat arriving while its viewer is persisted is neither lost nor persisted twice (Q7)', async () => {
    let release
    const saved = []
    const { stats, prefix } = makeStats({
      saveViewerStats: (viewer) => {
        saved.push(viewer)
        if (saved.length === 1) return new Promise((resolve) => (release = resolve))
        return undefined
      },
    })
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'racer' })
    await stats.addLocalViewer({ video, currentTime: 10, sessionId: 'racer' })
    await sleep(350)
    const pass = stats.processViewerStats()
    await waitFor(() => release)
    // The viewer comes back while the host is still storing the old sections.
    await stats.addLocalViewer({ video, currentTime: 100, sessionId: 'racer', viewEvent: 'seek' })
    await stats.addLocalViewer({ video, currentTime: 104, sessionId: 'racer' })
    await stats.syncRedisWrites()
    release()
    expect(await pass).toMatchObject({ persisted: 1 })
    await stats.syncRedisWrites()
    const json = JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-racer-42`))
    expect(json.watchSections).toEqual([{ start: 100, end: 104 }])
    await sleep(350)
    await stats.processViewerStats()
    expect(saved.map((v) => v.watchSections)).toEqual([[{ start: 0, end: 10 }], [{ start: 100, end: 104 }]])
  })

  test('a failed persistence merges the claimed sections with a heartbeat that arrived meanwhile', async () => {
    let reject
    const saved = []
    const { stats } = makeStats({
      saveViewerStats: (viewer) => {
        if (!reject) return new Promise((_, r) => (reject = r))
        saved.push(viewer)
      },
    })
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'merge' })
    await stats.addLocalViewer({ video, currentTime: 10, sessionId: 'merge' })
    await sleep(350)
    const pass = stats.processViewerStats()
    await waitFor(() => reject)
    await stats.addLocalViewer({ video, currentTime: 50, sessionId: 'merge', viewEvent: 'seek' })
    await stats.addLocalViewer({ video, currentTime: 53, sessionId: 'merge' })
    reject(new Error('no'))
    expect(await pass).toMatchObject({ failed: 1 })
    expect(await stats.getWatchTime(42, 'merge')).toBe(13)
    await sleep(350)
    await stats.processViewerStats()
    expect(saved).toHaveLength(1)
    expect(saved[0].watchSections).toEqual([
      { start: 0, end: 10 },
      { start: 50, end: 53 },
    ])
  })

  test('a set member without value is removed and the other viewers are processed (Q6)', async () => {
    const { stats, saved, prefix } = makeStats()
    await redis.sadd(`${prefix}${SET}`, 'local-video-viewer-stats-ghost-42')
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'real' })
    await stats.addLocalViewer({ video, currentTime: 4, sessionId: 'real' })
    await sleep(350)
    expect(await stats.processViewerStats()).toMatchObject({ persisted: 1, orphansRemoved: 0 })
    expect(saved).toHaveLength(1)
    // Removed on the second pass that still finds it without value.
    expect(await stats.processViewerStats()).toMatchObject({ orphansRemoved: 1 })
    expect(await redis.smembers(`${prefix}${SET}`)).toEqual([])
  })
})

describe('interoperability with PeerTube and restarts', () => {
  test('continues a viewer PeerTube wrote before the engine started (rolling upgrade)', async () => {
    const host = uniqueHost()
    const prefix = `redis-${host}-`
    const member = 'local-video-viewer-stats-f00dcafe-42'
    const fromPeerTube = {
      firstUpdated: Date.now() - 60_000,
      lastUpdated: Date.now() - 1_000,
      watchSections: [{ start: 0, end: 20 }],
      watchTime: 20,
      country: 'FR',
      subdivisionName: 'Brittany',
      videoId: 42,
    }
    // Exactly what PeerTube's Redis.setLocalVideoViewer does.
    await Promise.all([redis.sadd(`${prefix}${SET}`, member), redis.set(`${prefix}${member}`, JSON.stringify(fromPeerTube))])
    const { stats, saved } = makeStats({ webserverHost: host })

    await stats.addLocalViewer({ video, currentTime: 25, sessionId: 'f00dcafe', ip: '81.2.69.160' })
    expect(await stats.getWatchTime(42, 'f00dcafe')).toBe(25)
    await stats.syncRedisWrites()
    const raw = await redis.get(`${prefix}${member}`)
    const parsed = JSON.parse(raw)
    expect(raw).toBe(peertubeJson(parsed))
    expect(parsed).toMatchObject({
      firstUpdated: fromPeerTube.firstUpdated,
      watchSections: [{ start: 0, end: 25 }],
      watchTime: 25,
      country: 'FR',
      subdivisionName: 'Brittany',
    })
    expect(parsed.lastUpdated).toBeGreaterThan(fromPeerTube.lastUpdated)

    await sleep(350)
    await stats.processViewerStats()
    expect(saved).toEqual([
      expect.objectContaining({ sessionId: 'f00dcafe', firstUpdated: fromPeerTube.firstUpdated, watchTime: 25, country: 'FR' }),
    ])
  })

  test('a viewer another process writes after the engine started is merged, not overwritten', async () => {
    const { stats, prefix } = makeStats()
    // A pass lists the (empty) viewer set: from now on, unknown viewers are new without a GET.
    await stats.processViewerStats()
    const member = 'local-video-viewer-stats-0ther-42'
    const elsewhere = { firstUpdated: 1000, lastUpdated: Date.now(), watchSections: [{ start: 0, end: 20 }], watchTime: 20, country: null, subdivisionName: null, videoId: 42 }
    await redis.sadd(`${prefix}${SET}`, member)
    await redis.set(`${prefix}${member}`, JSON.stringify(elsewhere))
    // Also a truly new viewer in the same sync: it must still be written.
    await stats.addLocalViewer({ video, currentTime: 25, sessionId: '0ther', viewEvent: 'seek' })
    await stats.addLocalViewer({ video, currentTime: 30, sessionId: '0ther' })
    await stats.addLocalViewer({ video, currentTime: 3, sessionId: 'brand-new' })
    expect(await stats.syncRedisWrites()).toEqual({ written: 2 })
    expect(JSON.parse(await redis.get(`${prefix}${member}`))).toMatchObject({
      firstUpdated: 1000,
      watchSections: [{ start: 0, end: 20 }, { start: 25, end: 30 }],
      watchTime: 25,
    })
    expect(JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-brand-new-42`)).watchSections).toEqual([{ start: 3, end: 3 }])
  })

  test('a new viewer written once is not merged with itself at the next syncs (3,000 viewers, 3 transactions)', async () => {
    const { stats, prefix } = makeStats()
    await stats.processViewerStats()
    const sessions = Array.from({ length: 3000 }, (_, i) => `self-${i}`)
    for (const sessionId of sessions) await stats.addLocalViewer({ video, currentTime: 0, sessionId })
    for (const sessionId of sessions) await stats.addLocalViewer({ video, currentTime: 4, sessionId })
    expect(await stats.syncRedisWrites()).toEqual({ written: 3000 })
    for (const sessionId of sessions) await stats.addLocalViewer({ video, currentTime: 9, sessionId })
    expect(await stats.syncRedisWrites()).toEqual({ written: 3000 })
    for (const sessionId of sessions) await stats.addLocalViewer({ video, currentTime: 12, sessionId })
    expect(await stats.syncRedisWrites()).toEqual({ written: 3000 })
    const values = await redis.mget(sessions.map((s) => `${prefix}local-video-viewer-stats-${s}-42`))
    for (const value of values) expect(JSON.parse(value)).toMatchObject({ watchSections: [{ start: 0, end: 12 }], watchTime: 12 })
    expect(await redis.scard(`${prefix}${SET}`)).toBe(3000)
  })

  test('processes expired viewers that only PeerTube wrote (cold cache)', async () => {
    const { stats, saved, prefix } = makeStats()
    const viewers = [
      { session: 'aaa', json: { firstUpdated: 1000, lastUpdated: 2000, watchSections: [{ start: 1, end: 4 }, { start: 9, end: 9 }], watchTime: 3, country: 'US', subdivisionName: 'California', videoId: 5 } },
      { session: 'bbb', json: { firstUpdated: 1000, lastUpdated: 2000, watchSections: [{ start: 2, end: 2 }], watchTime: 0, country: null, subdivisionName: null, videoId: 5 } },
    ]
    for (const v of viewers) {
      const member = `local-video-viewer-stats-${v.session}-5`
      await redis.sadd(`${prefix}${SET}`, member)
      await redis.set(`${prefix}${member}`, JSON.stringify(v.json))
    }
    expect(await stats.processViewerStats()).toMatchObject({ scanned: 2, expired: 2, persisted: 1, discarded: 1 })
    expect(saved).toEqual([
      {
        videoId: 5,
        sessionId: 'aaa',
        firstUpdated: 1000,
        lastUpdated: 2000,
        watchSections: [{ start: 1, end: 4 }, { start: 9, end: 9 }],
        watchTime: 3,
        country: 'US',
        subdivisionName: 'California',
      },
    ])
    expect(await redis.keys(`${prefix}*`)).toEqual([])
  })

  test('a new instance continues what the previous one synced (restart)', async () => {
    const host = uniqueHost()
    const first = makeStats({ webserverHost: host })
    await first.stats.addLocalViewer({ video, currentTime: 0, sessionId: 'restart' })
    await first.stats.addLocalViewer({ video, currentTime: 30, sessionId: 'restart' })
    await first.stats.close()

    const second = makeStats({ webserverHost: host })
    expect(await second.stats.getWatchTime(42, 'restart')).toBe(30)
    await second.stats.addLocalViewer({ video, currentTime: 35, sessionId: 'restart' })
    await second.stats.syncRedisWrites()
    const parsed = JSON.parse(await redis.get(`${first.prefix}local-video-viewer-stats-restart-42`))
    expect(parsed.watchSections).toEqual([{ start: 0, end: 35 }])
    await sleep(350)
    await second.stats.processViewerStats()
    expect(second.saved).toEqual([expect.objectContaining({ watchSections: [{ start: 0, end: 35 }], watchTime: 35 })])
    expect(first.saved).toEqual([])
  })

  test('what the addon writes is what PeerTube reads: keys, members without prefix, no other keys', async () => {
    const { stats, prefix } = makeStats()
    await stats.addLocalViewer({ video, currentTime: 1, sessionId: 'x-1' })
    await stats.addLocalViewer({ video: { id: 9 }, currentTime: 1, sessionId: 'x-1' })
    await stats.syncRedisWrites()
    expect((await redis.keys(`${prefix}*`)).sort()).toEqual(
      [`${prefix}${SET}`, `${prefix}local-video-viewer-stats-x-1-42`, `${prefix}local-video-viewer-stats-x-1-9`].sort(),
    )
    expect((await redis.smembers(`${prefix}${SET}`)).sort()).toEqual(['local-video-viewer-stats-x-1-42', 'local-video-viewer-stats-x-1-9'])
    expect(await redis.type(`${prefix}${SET}`)).toBe('set')
    expect(await redis.type(`${prefix}local-video-viewer-stats-x-1-9`)).toBe('string')
  })
})
