// VideoViewsManager against a real redis-server, mirroring PeerTube's own view tests
// (packages/tests/src/api/views/video-views-counter.ts) and checking the Redis keys with ioredis.
const crypto = require('node:crypto')
const { VideoViewsManager } = require('../index.js')
const { redisSection, inspector, uniqueHost, sleep, waitFor } = require('./helpers/env')

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

const managers = []
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close().catch(() => {})))
})

const VOD = { id: 10, uuid: 'aaaaaaaa-0000-4000-8000-000000000010', remote: false, duration: 5, isLive: false }
const LIVE = { id: 11, uuid: 'aaaaaaaa-0000-4000-8000-000000000011', remote: false, isLive: true }
const REMOTE_VOD = { id: 12, uuid: 'aaaaaaaa-0000-4000-8000-000000000012', remote: true, duration: 5, isLive: false }
const byId = { 10: VOD, 11: LIVE, 12: REMOTE_VOD }

function makeManager(options = {}) {
  const webserverHost = uniqueHost()
  const calls = { saved: [], sent: [], notified: [], incremented: [], hourly: [] }
  const manager = new VideoViewsManager({
    redis: redisSection(),
    webserverHost,
    geoIp: null,
    autoStart: false,
    viewExpiration: '1 hour',
    countViewAfter: '10 seconds',
    viewersFederationV2: true,
    viewerStatsLifetime: '1 hour',
    viewerCounterLifetime: '1 hour',
    ...options,
    host: {
      saveViewerStats: async (v) => calls.saved.push(v),
      loadVideo: async (id) => byId[id] ?? null,
      notifyClients: (video, total) => calls.notified.push([video.id, total]),
      sendView: async (view) => calls.sent.push(view),
      incrementVideoViews: async (v) => calls.incremented.push(v),
      saveHourlyViews: async (v) => calls.hourly.push(v),
      ...options.host,
    },
  })
  managers.push(manager)
  return { manager, calls, prefix: `redis-${webserverHost}-` }
}

/** PeerTube's `simulateViewer`: the first time with viewEvent 'seek', then plain heartbeats. */
async function simulateViewer(manager, { video, sessionId, ip = '1.2.3.4' }, currentTimes) {
  let last
  for (const [i, currentTime] of currentTimes.entries()) {
    last = await manager.processLocalView({ video, currentTime, ip, sessionId, ...(i === 0 ? { viewEvent: 'seek' } : {}) })
  }
  return last
}

const localHour = () => new Date().getHours()
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex')

describe('views (PeerTube video-views-counter)', () => {
  test('[1,2] on a 5 s video gives no view, [1,4] gives one, with PeerTube keys', async () => {
    const { manager, calls, prefix } = makeManager()
    expect(await simulateViewer(manager, { video: VOD, sessionId: 'short' }, [1, 2])).toEqual({ successView: false, successViewer: false })
    expect(await manager.processViewsBuffer()).toEqual({ videos: 0, views: 0, failed: 0 })

    const last = await simulateViewer(manager, { video: VOD, sessionId: 'enough' }, [1, 4])
    expect(last.successView).toBe(true)
    // Keys as PeerTube writes them.
    const hour = localHour()
    expect(await redis.get(`${prefix}views-${VOD.uuid}-enough`)).toBe('1')
    const pttl = await redis.pttl(`${prefix}views-${VOD.uuid}-enough`)
    expect(pttl).toBeGreaterThan(3_590_000)
    expect(pttl).toBeLessThanOrEqual(3_600_000)
    expect(await redis.smembers(`${prefix}local-video-views-buffer`)).toEqual(['10'])
    expect(await redis.get(`${prefix}local-video-views-buffer-10`)).toBe('1')
    expect(await redis.smembers(`${prefix}videos-view-h${hour}`)).toEqual(['10'])
    expect(await redis.get(`${prefix}video-view-10-h${hour}`)).toBe('1')

    await waitFor(() => calls.sent.length === 1)
    expect(calls.sent[0]).toEqual({ video: { id: 10, uuid: VOD.uuid, remote: false }, viewerIdentifier: expect.stringMatching(/^[0-9a-f-]{36}$/) })
    expect(calls.sent[0].viewersCount).toBeUndefined()

    expect(await manager.processViewsBuffer()).toEqual({ videos: 1, views: 1, failed: 0 })
    expect(calls.incremented).toEqual([{ videoId: 10, views: 1 }])
    expect(await redis.exists(`${prefix}local-video-views-buffer-10`)).toBe(0)
    expect(await redis.scard(`${prefix}local-video-views-buffer`)).toBe(0)
  })

  test('the same session counts once until the dedup key expires, then again', async () => {
    const { manager, calls } = makeManager({ viewExpiration: '1 second', countViewAfter: '1 second' })
    const video = { ...VOD, duration: 100 }
    expect((await simulateViewer(manager, { video, sessionId: 'twice' }, [0, 2])).successView).toBe(true)
    expect((await manager.processLocalView({ video, currentTime: 3, sessionId: 'twice' })).successView).toBe(false)
    expect((await manager.processLocalView({ video, currentTime: 4, sessionId: 'twice' })).successView).toBe(false)
    await sleep(1100)
    expect((await manager.processLocalView({ video, currentTime: 5, sessionId: 'twice' })).successView).toBe(true)
    await manager.processViewsBuffer()
    expect(calls.incremented).toEqual([{ videoId: 10, views: 2 }])
  })

  test("countViewAfter: '1 second' makes [1,2] count", async () => {
    const { manager } = makeManager({ countViewAfter: '1 second' })
    expect((await simulateViewer(manager, { video: VOD, sessionId: 'one-second' }, [1, 2])).successView).toBe(true)
  })

  test('trustViewerSessionId: false: two sessions from one IP count once, a new IP counts again', async () => {
    const { manager, calls, prefix } = makeManager({ trustViewerSessionId: false })
    expect((await simulateViewer(manager, { video: VOD, sessionId: 'first', ip: '9.9.9.9' }, [1, 4])).successView).toBe(true)
    expect((await simulateViewer(manager, { video: VOD, sessionId: 'second', ip: '9.9.9.9' }, [1, 4])).successView).toBe(false)
    expect((await simulateViewer(manager, { video: VOD, sessionId: 'third', ip: '8.8.4.4' }, [1, 4])).successView).toBe(true)
    // The identity is PeerTube's sha256('[object Object]-' + ip).
    expect(await redis.exists(`${prefix}views-${VOD.uuid}-${sha256('[object Object]-9.9.9.9')}`)).toBe(1)
    await manager.syncRedisWrites()
    expect(await redis.exists(`${prefix}local-video-viewer-stats-${sha256('[object Object]-8.8.4.4')}-10`)).toBe(1)
    await manager.processViewsBuffer()
    expect(calls.incremented).toEqual([{ videoId: 10, views: 2 }])
  })

  test('without a sessionId the viewer is the hashed IP; identitySalt replaces the salt', async () => {
    const plain = makeManager()
    await plain.manager.processLocalView({ video: VOD, currentTime: 1, ip: '5.6.7.8' })
    await plain.manager.syncRedisWrites()
    expect(await redis.exists(`${plain.prefix}local-video-viewer-stats-${sha256('[object Object]-5.6.7.8')}-10`)).toBe(1)
    const salted = makeManager({ identitySalt: 'a-real-secret' })
    await salted.manager.processLocalView({ video: VOD, currentTime: 1, ip: '5.6.7.8' })
    await salted.manager.syncRedisWrites()
    expect(await redis.exists(`${salted.prefix}local-video-viewer-stats-${sha256('a-real-secret-5.6.7.8')}-10`)).toBe(1)
  })

  test('lives use the absolute threshold and accept any currentTime', async () => {
    const { manager } = makeManager()
    expect((await simulateViewer(manager, { video: LIVE, sessionId: 'live' }, [0, 5, 9])).successView).toBe(false)
    expect((await manager.processLocalView({ video: LIVE, currentTime: 10, sessionId: 'live' })).successView).toBe(true)
    expect((await manager.processLocalView({ video: LIVE, currentTime: 3600, sessionId: 'live' })).successView).toBe(false)
  })

  test('currentTime beyond a VOD duration is rejected before any change (B5)', async () => {
    const { manager, prefix } = makeManager()
    const err = await manager.processLocalView({ video: VOD, currentTime: 6, sessionId: 'cheater' }).catch((e) => e)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.name).toBe('RangeError')
    expect(err.message).toBe(`currentTime 6 is invalid (video ${VOD.uuid} duration: 5)`)
    expect(manager.getTotalViewersOf(VOD)).toBe(0)
    await manager.syncRedisWrites()
    expect(await redis.keys(`${prefix}*`)).toEqual([])
  })

  test('concurrent requests of one viewer count one view (atomic SET NX)', async () => {
    const { manager } = makeManager({ countViewAfter: '1 second' })
    await simulateViewer(manager, { video: VOD, sessionId: 'hammer' }, [0])
    // The first request reaches enough watch time; many identical ones race with it.
    const results = await Promise.all(Array.from({ length: 20 }, () => manager.processLocalView({ video: VOD, currentTime: 3, sessionId: 'hammer' })))
    expect(results.filter((r) => r.successView)).toHaveLength(1)
  })
})

describe('viewers and remote views', () => {
  test('local heartbeats add one viewer per identity', async () => {
    const { manager, calls } = makeManager()
    expect((await manager.processLocalView({ video: VOD, currentTime: 0, sessionId: 'v1' })).successViewer).toBe(true)
    expect((await manager.processLocalView({ video: VOD, currentTime: 1, sessionId: 'v1' })).successViewer).toBe(false)
    expect((await manager.processLocalView({ video: VOD, currentTime: 0, sessionId: 'v2' })).successViewer).toBe(true)
    expect(manager.getTotalViewersOf(VOD)).toBe(2)
    expect(manager.getTotalViewers({ viewerScope: 'local', videoScope: 'local' })).toBe(2)
    await waitFor(() => calls.notified.at(-1)?.[1] === 2)
  })

  test('remote views feed the hourly stats only (and the buffer of owned videos)', async () => {
    const { manager, prefix } = makeManager()
    const hour = localHour()
    await manager.processRemoteView({ video: REMOTE_VOD, viewerId: 'https://origin.example/views/videos/3/abc' })
    await manager.processRemoteView({ video: REMOTE_VOD, viewerId: 'https://origin.example/views/videos/3/def' })
    expect(await redis.get(`${prefix}video-view-12-h${hour}`)).toBe('2')
    expect(await redis.exists(`${prefix}local-video-views-buffer-12`)).toBe(0)
    expect(manager.getTotalViewersOf(REMOTE_VOD)).toBe(0)
    await manager.processRemoteView({ video: VOD, viewerId: 'https://remote.example/views/videos/7/xyz' })
    expect(await redis.get(`${prefix}video-view-10-h${hour}`)).toBe('1')
    expect(await redis.get(`${prefix}local-video-views-buffer-10`)).toBe('1')
  })

  test('remote views with expires are viewers, not views', async () => {
    const { manager, prefix } = makeManager()
    const viewerExpires = new Date(Date.now() + 60_000)
    await manager.processRemoteView({ video: VOD, viewerId: 'https://remote.example/v/1', viewerExpires })
    await manager.processRemoteView({ video: VOD, viewerId: 'https://remote.example/v/1', viewerExpires })
    await manager.processRemoteView({ video: REMOTE_VOD, viewerId: 'https://origin.example/v/total', viewerExpires, viewerResultCounter: 9 })
    expect(manager.getTotalViewersOf(VOD)).toBe(1)
    expect(manager.getTotalViewersOf(REMOTE_VOD)).toBe(9)
    expect(await redis.keys(`${prefix}*`)).toEqual([])
  })

  test('viewer stats are persisted through host.saveViewerStats', async () => {
    const { manager, calls } = makeManager({ viewerStatsLifetime: 200 })
    await simulateViewer(manager, { video: VOD, sessionId: 'stats' }, [0, 3])
    await sleep(250)
    expect(await manager.processViewerStats()).toMatchObject({ persisted: 1 })
    expect(calls.saved).toEqual([expect.objectContaining({ videoId: 10, sessionId: 'stats', watchTime: 3 })])
    expect(manager.getInternalStats()).toMatchObject({ cachedViewers: 0, viewers: 1 })
  })
})
