// The drop-in VideoViewsManager (integration/peertube/video-views-manager.ts) run as PeerTube
// would run it: its own source, with PeerTube's modules replaced by recording stand-ins (CONFIG,
// constants, logger, models, senders, socket) and the real engine on the test Redis. Checks that
// init() builds working options from PeerTube's configuration (Redis section, GeoIP paths under
// STORAGE.BIN_DIR, lifetimes, timers), and that each method reaches the right PeerTube call.
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { redisSection, uniqueHost, waitFor } = require('../helpers/env')
const { loadTs } = require('../helpers/load-ts')

const adapter = path.join(__dirname, '../../integration/peertube')
const fixtures = path.join(__dirname, '..', 'fixtures')

const LOCAL = { id: 31, uuid: crypto.randomUUID(), url: 'http://tube.test/videos/watch/31', name: 'local', remote: false, isLive: false, duration: 5, views: 3 }
const REMOTE = { id: 32, uuid: crypto.randomUUID(), url: 'http://origin.test/videos/watch/32', name: 'remote', remote: true, isLive: false, duration: 20, views: 0 }
const VIDEOS = { [LOCAL.id]: LOCAL, [REMOTE.id]: REMOTE }

function standIns(binDir, webserverHost) {
  const calls = { viewers: [], sections: [], watchActions: [], views: [], socket: [], increments: [], federated: [], hourly: [], transactions: 0, logs: [], geoIpDownloads: 0, testInstance: false }
  const video = (id) => (VIDEOS[id] ? { ...VIDEOS[id], isOwned: () => !VIDEOS[id].remote } : null)
  let nextId = 1
  const log = (level) => (message, meta) => calls.logs.push({ level, message, meta })
  return {
    calls,
    modules: {
      'peertube-native-views': path.join(__dirname, '../../index.js'),
      './native-host.js': path.join(adapter, 'native-host.ts'),
      './native-ports.js': path.join(adapter, 'native-ports.ts'),
      config: { get: (key) => (key === 'redis' ? redisSection() : undefined) },
      '@peertube/peertube-models': { HttpStatusCode: { BAD_REQUEST_400: 400 } },
      '@peertube/peertube-node-utils': { isUsingViewersFederationV2: () => true, isTestOrDevInstance: () => calls.testInstance },
      '@server/helpers/geo-ip.js': {
        // PeerTube's helper: downloads every database that has a URL into STORAGE.BIN_DIR.
        GeoIP: {
          Instance: {
            updateDatabases: async () => {
              calls.geoIpDownloads += 1
              fs.copyFileSync(path.join(fixtures, 'geo-country-test.mmdb'), path.join(binDir, 'dbip-country-lite-latest.mmdb'))
              fs.copyFileSync(path.join(fixtures, 'geo-city-test.mmdb'), path.join(binDir, 'dbip-city-lite-latest.mmdb'))
            },
          },
        },
      },
      '@server/lib/views/video-views-manager.js': path.join(adapter, 'video-views-manager.ts'),
      '@server/lib/schedulers/abstract-scheduler.js': {
        AbstractScheduler: class {
          execute() {
            return this.internalExecute()
          }
        },
      },
      '@server/helpers/logger.js': { logger: { level: 'info', debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') } },
      '@server/initializers/config.js': {
        CONFIG: {
          STORAGE: { BIN_DIR: binDir },
          GEO_IP: { ENABLED: true, COUNTRY: { DATABASE_URL: 'https://db.test/country.mmdb' }, CITY: { DATABASE_URL: 'https://db.test/city.mmdb' } },
          VIEWS: { VIDEOS: { LOCAL_BUFFER_UPDATE_INTERVAL: 3_600_000, VIEW_EXPIRATION: 3_600_000, COUNT_VIEW_AFTER: 10_000, TRUST_VIEWER_SESSION_ID: true } },
        },
      },
      '@server/initializers/constants.js': {
        WEBSERVER: { URL: 'http://' + webserverHost, HOST: webserverHost },
        VIEW_LIFETIME: { VIEW: 3_600_000, VIEWER_COUNTER: 3_600_000, VIEWER_STATS: 300 },
        VIEWER_SYNC_REDIS: 100,
        SCHEDULER_INTERVALS_MS: { VIDEO_VIEWS_BUFFER_UPDATE: 3_600_000 },
        MAX_LOCAL_VIEWER_WATCH_SECTIONS: 100,
        PEERTUBE_VERSION: '6.1.0',
      },
      '@server/lib/video.js': { getCachedVideoDuration: async (id) => ({ duration: VIDEOS[id].isLive ? undefined : VIDEOS[id].duration, isLive: VIDEOS[id].isLive }) },
      '@server/initializers/database.js': {
        sequelizeTypescript: { transaction: async (work) => { calls.transactions += 1; return work({ transaction: calls.transactions }) } },
      },
      '@server/lib/activitypub/send/index.js': {
        sendCreateWatchAction: async (stats, t) => calls.watchActions.push({ url: stats.url, videoUrl: stats.Video.url, sections: stats.WatchSections.length, t }),
      },
      '@server/lib/activitypub/send/send-view.js': {
        sendView: async ({ byActor, video, viewersCount, viewerIdentifier }) => calls.views.push({ actor: byActor.url, videoUrl: video.url, viewersCount, viewerIdentifier }),
      },
      '@server/lib/activitypub/videos/index.js': { federateVideoIfNeeded: async (v, isNewVideo) => calls.federated.push({ id: v.id, views: v.views, isNewVideo }) },
      '@server/lib/peertube-socket.js': { PeerTubeSocket: { Instance: { sendVideoViewsUpdate: (v, n) => calls.socket.push([v.id, n]) } } },
      '@server/models/application/application.js': { getServerActor: async () => ({ id: 1, url: 'http://tube.test/accounts/peertube' }) },
      '@server/models/video/video.js': {
        VideoModel: {
          load: async (id) => video(id),
          loadImmutableAttributes: async (id) => video(id),
          loadFull: async (id) => video(id),
          incrementViews: async (id, views) => calls.increments.push({ id, views }),
        },
      },
      '@server/models/view/local-video-viewer.js': {
        LocalVideoViewerModel: { create: async (values, options) => { const row = { id: nextId++, ...values }; calls.viewers.push({ row, t: options.transaction }); return row } },
      },
      '@server/models/view/local-video-viewer-watch-section.js': {
        LocalVideoViewerWatchSectionModel: {
          bulkCreateSections: async ({ localVideoViewerId, watchSections, transaction }) => {
            calls.sections.push({ localVideoViewerId, watchSections, t: transaction })
            return watchSections.map((s, i) => ({ id: i + 1, watchStart: s.start, watchEnd: s.end, localVideoViewerId }))
          },
        },
      },
      '@server/models/view/video-view.js': { VideoViewModel: { create: async (row) => calls.hourly.push(row) } },
      '@server/types/models/index.js': {},
    },
  }
}

let binDir
let manager
beforeAll(() => {
  // PeerTube's GeoIP file names in STORAGE.BIN_DIR.
  binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'peertube-bin-'))
  fs.copyFileSync(path.join(fixtures, 'geo-country-test.mmdb'), path.join(binDir, 'dbip-country-lite-latest.mmdb'))
  fs.copyFileSync(path.join(fixtures, 'geo-city-test.mmdb'), path.join(binDir, 'dbip-city-lite-latest.mmdb'))
})
afterAll(async () => {
  if (manager) await manager.close()
  fs.rmSync(binDir, { recursive: true, force: true })
})

test('the drop-in, called as PeerTube calls it, reaches PeerTube\'s models and senders', async () => {
  const webserverHost = uniqueHost()
  const { modules, calls } = standIns(binDir, webserverHost)
  const { VideoViewsManager } = loadTs(path.join(adapter, 'video-views-manager.ts'), modules)
  manager = VideoViewsManager.Instance
  expect(VideoViewsManager.Instance).toBe(manager)
  // PeerTube 6.1's switch for viewers federation v2, read when the engine is made.
  process.env.USE_VIEWERS_FEDERATION_V2 = 'true'
  try {
    manager.init()
  } finally {
    delete process.env.USE_VIEWERS_FEDERATION_V2
  }

  // The view controller: MVideoImmutable (no duration) + body fields; sessionId optional.
  const immutable = (v) => ({ id: v.id, url: v.url, uuid: v.uuid, remote: v.remote, isOwned: () => !v.remote })
  const view = (v, currentTime, ip, sessionId, viewEvent) => manager.processLocalView({ video: immutable(v), currentTime, ip, sessionId, viewEvent })
  expect(await view(LOCAL, 0, '192.0.2.1', 'sess-1', 'seek')).toEqual({ successView: false, successViewer: true })
  expect(await view(LOCAL, 2, '192.0.2.1', 'sess-1')).toEqual({ successView: false, successViewer: false })
  expect(await view(LOCAL, 3, '192.0.2.1', 'sess-1')).toEqual({ successView: true, successViewer: false }) // 5 / 3 < 2
  expect(await view(REMOTE, 4, '2001:db8::1', undefined, 'seek')).toEqual({ successView: false, successViewer: true }) // identity: hashed IP
  expect(await view(REMOTE, 6, '2001:db8::1', undefined)).toEqual({ successView: false, successViewer: false })
  await expect(view(LOCAL, 6, '192.0.2.1', 'sess-1')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' }) // beyond the duration

  // process-view.ts: a viewer (with expires) and a view (without).
  await manager.processRemoteView({ video: { ...LOCAL }, viewerId: 'http://remote.test/v/1', viewerExpires: new Date(Date.now() + 60_000) })
  await manager.processRemoteView({ video: { ...LOCAL }, viewerId: 'http://remote.test/v/2' })
  expect(manager.getTotalViewersOf({ ...LOCAL })).toBe(2)
  expect(manager.getTotalViewers({ viewerScope: 'local', videoScope: 'local' })).toBe(1)
  expect(manager.getTotalViewers({ viewerScope: 'local', videoScope: 'remote' })).toBe(1)
  expect(manager.getTotalViewers({ viewerScope: 'remote', videoScope: 'local' })).toBe(1)
  const expires = manager.buildViewerExpireTime()
  expect(expires - Date.now()).toBeGreaterThan(3_599_000)
  expect(expires - Date.now()).toBeLessThanOrEqual(3_600_000)

  // The engine's own timers (init() starts them): sync every 100 ms, processing every 300 ms.
  await waitFor(() => calls.viewers.length === 2, { timeout: 5000 })
  const byVideo = Object.fromEntries(calls.viewers.map((c) => [c.row.videoId, c]))
  expect(byVideo[LOCAL.id].row).toMatchObject({ watchTime: 3, country: 'US', subdivisionName: 'California', url: expect.stringMatching(`^http://${webserverHost.replace(/\./g, '\\.')}/videos/local-viewer/[0-9a-f-]{36}$`) })
  expect(byVideo[REMOTE.id].row).toMatchObject({ watchTime: 2, country: 'FR', subdivisionName: 'Brittany' })
  expect(calls.sections.map((s) => s.watchSections)).toEqual(expect.arrayContaining([[{ start: 0, end: 3 }], [{ start: 4, end: 6 }]]))
  // Rows, sections and the WatchAction share the viewer's transaction.
  for (const { row, t } of calls.viewers) {
    const sections = calls.sections.find((s) => s.localVideoViewerId === row.id)
    expect(sections.t).toBe(t)
  }
  expect(calls.watchActions).toEqual([{ url: byVideo[REMOTE.id].row.url, videoUrl: REMOTE.url, sections: 1, t: byVideo[REMOTE.id].t }])

  // Counted view on LOCAL as a plain View by the server actor; Socket.IO updates by video id.
  await waitFor(() => calls.views.some((v) => v.viewersCount === undefined))
  expect(calls.views.filter((v) => v.viewersCount === undefined)).toEqual([
    { actor: 'http://tube.test/accounts/peertube', videoUrl: LOCAL.url, viewersCount: undefined, viewerIdentifier: expect.stringMatching(/^[0-9a-f-]{36}$/) },
  ])
  await waitFor(() => calls.socket.some(([id]) => id === LOCAL.id))

  // process-video-views-buffer and the hourly job.
  await manager.processViewsBuffer()
  expect(calls.increments).toEqual([{ id: LOCAL.id, views: 2 }])
  expect(calls.federated).toEqual([{ id: LOCAL.id, views: LOCAL.views + 2, isNewVideo: false }])
  await manager.processHourlyViewStats(new Date().getHours())
  expect(calls.hourly.map((r) => [r.videoId, r.views])).toEqual([[LOCAL.id, 2]])

  await manager.processViewerStats() // debug command process-video-viewers: nothing left
  expect(calls.viewers).toHaveLength(2)
  await manager.close()
  expect(calls.logs.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([])
  expect(calls.logs.filter((l) => l.level === 'debug')).toEqual([]) // level 'info' filters natively
})

describe('PeerTube 6.1 semantics the adapter keeps', () => {
  let dir
  let native
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peertube-bin-'))
  })
  afterEach(async () => {
    if (native) await native.close()
    native = null
    fs.rmSync(dir, { recursive: true, force: true })
  })

  function dropIns() {
    const webserverHost = uniqueHost()
    const { modules, calls } = standIns(dir, webserverHost)
    const { VideoViewsManager } = loadTs(path.join(adapter, 'video-views-manager.ts'), modules)
    return { VideoViewsManager, modules, calls, prefix: `redis-${webserverHost}-` }
  }

  test('sessionId and viewEvent as PeerTube 6.1 reads them; refused input is a 400; missing GeoIP files are downloaded and used', async () => {
    const { VideoViewsManager, calls, prefix } = dropIns()
    const redis = require('../helpers/env').inspector()
    try {
      native = VideoViewsManager.Instance
      native.init() // no GeoIP file in BIN_DIR yet: init() starts PeerTube's download
      const immutable = { id: LOCAL.id, url: LOCAL.url, uuid: LOCAL.uuid, remote: false }
      const view = (body) => native.processLocalView({ video: immutable, ip: '81.2.69.160', ...body })
      const stored = async (sessionId) => JSON.parse((await redis.get(`${prefix}local-video-viewer-stats-${sessionId}-${LOCAL.id}`)) ?? 'null')
      // As PeerTube's first lookups, the first heartbeat waits for the download: located at once.
      await view({ currentTime: 1, sessionId: 'first', viewEvent: 'seek' })
      expect(calls.geoIpDownloads).toBe(1)
      await waitFor(async () => (await stored('first')) !== null, { timeout: 5000 })
      expect(await stored('first')).toMatchObject({ country: 'GB', subdivisionName: 'England' })

      // The databases the download wrote are opened without a restart (the engine syncs every
      // 100 ms); a viewer is located once, when it is new, so probe with new viewers.
      let probes = 0
      await waitFor(
        async () => {
          const sessionId = `probe-${probes++}`
          await view({ currentTime: 1, sessionId, viewEvent: 'seek' })
          await new Promise((resolve) => setTimeout(resolve, 150))
          return (await stored(sessionId))?.country === 'GB'
        },
        { timeout: 10000 },
      )
      await view({ currentTime: 1, sessionId: '8.8.8.8,127.0.0.1', viewEvent: 'seek' })
      await waitFor(async () => (await stored('8.8.8.8,127.0.0.1')) !== null, { timeout: 5000 })
      expect(await stored('8.8.8.8,127.0.0.1')).toMatchObject({ country: 'GB', subdivisionName: 'England', watchSections: [{ start: 1, end: 1 }] })

      // Any truthy sessionId is kept as text; anything but 'seek' is a plain heartbeat; '' is the IP.
      await view({ currentTime: 1, sessionId: 42, viewEvent: 'seek' })
      await view({ currentTime: 3, sessionId: 42, viewEvent: 'play' })
      await view({ currentTime: 2, sessionId: '' })
      const ipIdentity = crypto.createHash('sha256').update('[object Object]-81.2.69.160').digest('hex')
      await waitFor(async () => (await stored('42'))?.watchTime === 2 && (await stored(ipIdentity)) !== null, { timeout: 5000 })
      expect((await stored('42')).watchSections).toEqual([{ start: 1, end: 3 }])

      const tooLong = await view({ currentTime: 1, sessionId: 'x'.repeat(257) }).catch((e) => e)
      expect(tooLong).toMatchObject({ code: 'INVALID_ARGUMENT', status: 400, name: 'RangeError' })
      const beyondDuration = await view({ currentTime: 6, sessionId: 's' }).catch((e) => e)
      expect(beyondDuration).toMatchObject({ code: 'INVALID_ARGUMENT', status: 400 })
      expect(await stored('s')).toBeNull()
    } finally {
      await redis.quit()
    }
  })

  test('the buffer scheduler and the videos-views-stats job drop-ins go through the engine', async () => {
    const { VideoViewsManager, modules, calls } = dropIns()
    native = VideoViewsManager.Instance
    native.init()
    const { VideoViewsBufferScheduler } = loadTs(path.join(adapter, 'video-views-buffer-scheduler.ts'), modules)
    const { processVideosViewsStats } = loadTs(path.join(adapter, 'video-views-stats.ts'), modules)
    const immutable = { id: LOCAL.id, url: LOCAL.url, uuid: LOCAL.uuid, remote: false }
    for (const sessionId of ['a', 'b']) {
      await native.processLocalView({ video: immutable, ip: null, currentTime: 0, sessionId, viewEvent: 'seek' })
      expect(await native.processLocalView({ video: immutable, ip: null, currentTime: 3, sessionId })).toEqual({ successView: true, successViewer: false })
    }
    await VideoViewsBufferScheduler.Instance.execute()
    expect(calls.increments).toEqual([{ id: LOCAL.id, views: 2 }])
    expect(calls.federated).toEqual([{ id: LOCAL.id, views: LOCAL.views + 2, isNewVideo: false }])

    // Production: the previous hour (nothing there); test instances: the current hour.
    await processVideosViewsStats()
    expect(calls.hourly).toEqual([])
    calls.testInstance = true
    await processVideosViewsStats()
    expect(calls.hourly.map((r) => [r.videoId, r.views])).toEqual([[LOCAL.id, 2]])
    const start = new Date()
    start.setMinutes(0, 0, 0)
    expect(calls.hourly[0].startDate.getTime()).toBe(start.getTime())
    expect(calls.hourly[0].endDate.getTime()).toBe(start.getTime() + 3_599_999)
  })

  test('PeerTube 8: the User-Agent header and the body fields reach the localVideoViewer row; v2 by default', async () => {
    const { VideoViewsManager, modules, calls } = dropIns()
    modules['@server/initializers/constants.js'].PEERTUBE_VERSION = '8.2.3'
    native = VideoViewsManager.Instance
    native.init()
    const immutable = { id: LOCAL.id, url: LOCAL.url, uuid: LOCAL.uuid, remote: false }
    const firefoxAndroid = 'Mozilla/5.0 (Android 14; Mobile; rv:133.0) Gecko/133.0 Firefox/133.0'
    await native.processLocalView({ video: immutable, ip: null, currentTime: 0, sessionId: 'ua-1', userAgent: firefoxAndroid })
    await native.processLocalView({ video: immutable, ip: null, currentTime: 2, sessionId: 'ua-1' })
    await native.processLocalView({ video: immutable, ip: null, currentTime: 0, sessionId: 'ua-2', userAgent: firefoxAndroid, client: 'PeerTube app', device: 'tablet' })
    await native.processLocalView({ video: immutable, ip: null, currentTime: 1, sessionId: 'ua-2' })
    // Expired after 300 ms, processed by the engine's own timer.
    await waitFor(() => calls.viewers.length === 2, { timeout: 5000 })
    const rows = Object.fromEntries(calls.viewers.map(({ row }) => [row.watchTime, row]))
    expect(rows[2]).toMatchObject({ client: 'Mobile Firefox', device: 'mobile', operatingSystem: 'Android', videoId: LOCAL.id })
    expect(rows[1]).toMatchObject({ client: 'PeerTube app', device: 'tablet', operatingSystem: 'Android' })
    // Viewers federation v2 only: no View per local viewer.
    expect(calls.views).toEqual([])
  })

  test("the release line: PEERTUBE_VERSION, or 7.1 for a develop build that says 7.0.1 without node-utils' v1 switch", () => {
    const release = (version, nodeUtils) => {
      const { modules } = standIns(dir, uniqueHost())
      modules['@server/initializers/constants.js'].PEERTUBE_VERSION = version
      if (nodeUtils) modules['@peertube/peertube-node-utils'] = nodeUtils
      return loadTs(path.join(adapter, 'video-views-manager.ts'), modules).peertubeRelease()
    }
    expect(release('6.1.0')).toBe('6.1.0')
    expect(release('7.0.1')).toBe('7.0.1')
    expect(release('7.0.1', { isTestOrDevInstance: () => true })).toBe('7.1')
    expect(release('8.0.0', { isTestOrDevInstance: () => true })).toBe('8.0.0')
  })
})
