// The PeerTube plugin (plugin/): its package.json against PeerTube's plugin rules, and
// register/unregister with a fake PeerTube host on the real test Redis: hook, heartbeat route,
// health route, Redis keys under the plugin's own prefix, stored aggregates, settings changes,
// shutdown.
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { inspector, redisUrl, uniqueHost, waitFor } = require('../helpers/env')
const { badPluginFields, satisfies } = require('./package-rules')
const { fakePeerTube, videoModel } = require('./fake-peertube')

const pluginDir = path.join(__dirname, '..', '..', 'plugin')
const pkg = require(path.join(pluginDir, 'package.json'))
const plugin = require(path.join(pluginDir, 'main.js'))

const LIVE = videoModel({ id: 21, uuid: 'bbbbbbbb-0000-4000-8000-000000000021', shortUUID: 'liveShort21', isLive: true })
const VOD = videoModel({ id: 22, uuid: 'bbbbbbbb-0000-4000-8000-000000000022', duration: 30 })

function redisSettings(extra = {}) {
  const url = redisUrl()
  return {
    'redis-hostname': url.hostname,
    'redis-port': url.port,
    'redis-db': '0',
    'sync-redis-interval': '100', // ms: the write-behind runs quickly in the test
    'viewer-stats-lifetime': '1 second',
    'viewer-counter-lifetime': '1 second',
    ...extra,
  }
}

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await plugin.unregister()
  await redis.quit()
})

describe('plugin package.json', () => {
  test('passes PeerTube plugin rules', () => {
    expect(badPluginFields(pkg, { dir: pluginDir })).toEqual([])
    expect(pkg.dependencies['peertube-native-views']).toBe('file:..')
    expect(satisfies('6.1.0', pkg.engine.peertube)).toBe(true)
    expect(satisfies('6.0.4', pkg.engine.peertube)).toBe(false)
  })

  test.each([
    ['name', { name: '@scope/peertube-plugin-native-views' }],
    ['name', { name: 'native-views' }],
    ['name', { name: 'peertube-plugin-Native_Views' }],
    ['version', { version: '1.0' }],
    ['description', { description: '' }],
    ['engine', { engine: {} }],
    ['engine', { engine: { peertube: 'latest' } }],
    ['engine', { engine: { peertube: '>=7.0.0' } }],
    ['keywords', { keywords: ['views'] }],
    ['homepage', { homepage: 'not a url' }],
    ['author', { author: undefined }],
    ['bugs', { bugs: 'ftp://example.com/issues' }],
    ['library', { library: './missing.js' }],
    ['library', { library: '../index.js' }],
    ['staticDirs', { staticDirs: { images: '../../etc' } }],
    ['css', { css: 'style.css' }],
    ['clientScripts', { clientScripts: [{ script: 'client.js' }] }],
    ['translations', { translations: [] }],
  ])('a broken %s fails: %j', (field, change) => {
    expect(badPluginFields({ ...pkg, ...change }, { dir: pluginDir })).toEqual([field])
  })
})

describe('register / unregister', () => {
  test('hook and heartbeats feed the engine under the plugin prefix; unregister closes it', async () => {
    const host = uniqueHost()
    const peertube = fakePeerTube({ webserverHost: host, settings: redisSettings(), videos: [LIVE, VOD] })
    await plugin.register(peertube.options)

    const prefix = `redis-plugin-native-views-${host}-`
    expect(peertube.registeredSettings.map((s) => s.name)).toEqual(
      expect.arrayContaining(['redis-hostname', 'redis-port', 'redis-auth', 'redis-db', 'geoip-country-database-path', 'geoip-city-database-path', 'viewer-stats-lifetime']),
    )
    expect(peertube.registeredSettings.every((s) => s.private === true)).toBe(true)
    expect(Object.keys(peertube.router.routes).sort()).toEqual(['GET /health', 'POST /heartbeat'])

    let health = await peertube.call('GET', '/health')
    expect(health.status).toBe(200)
    expect(health.body).toMatchObject({ status: 'running', redisPrefix: prefix, viewers: { local: 0 } })

    // PeerTube counted a view: the hook hands the request's heartbeat to the engine.
    const viewed = peertube.hook('action:api.video.viewed')
    await expect(viewed.handler({ video: LIVE, ip: '1.2.3.4', req: { body: { currentTime: 3, sessionId: 'hook-session' } } })).resolves.toBeUndefined()

    // Player heartbeats on the plugin's route, by uuid then by short uuid.
    const beat = (body) => peertube.call('POST', '/heartbeat', { body, ip: '5.6.7.8' })
    expect(await beat({ videoId: LIVE.uuid, currentTime: 0, sessionId: 'player-1', viewEvent: 'seek' })).toEqual({ status: 204, body: undefined })
    expect((await beat({ videoId: 'liveShort21', currentTime: '12', sessionId: 'player-1' })).status).toBe(204)
    expect((await beat({ videoId: VOD.id, currentTime: 4, sessionId: 'player-2' })).status).toBe(204)
    expect((await beat({ videoId: String(VOD.id), currentTime: 9, sessionId: 'player-2' })).status).toBe(204)

    // Rejections carry the engine's code; nothing throws.
    const bad = await beat({ videoId: LIVE.uuid, currentTime: -1, sessionId: 'player-3' })
    expect(bad).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } })
    expect(bad.body.error).toMatch(/currentTime/)
    expect((await beat({ videoId: LIVE.uuid, currentTime: 1, sessionId: 'x'.repeat(257) })).body).toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(await beat({ videoId: VOD.uuid, currentTime: 31, sessionId: 'player-2' })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } })
    expect(await beat({ currentTime: 1 })).toMatchObject({ status: 400, body: { code: 'INVALID_ARGUMENT' } })
    expect(await beat({ videoId: 'cccccccc-0000-4000-8000-000000000099', currentTime: 1 })).toMatchObject({ status: 404, body: { code: 'VIDEO_NOT_FOUND' } })

    health = await peertube.call('GET', '/health')
    expect(health.body.viewers).toEqual({ local: 3, remoteOnLocalVideos: 0, localOnRemoteVideos: 0 })
    expect(health.body.plugin).toMatchObject({ heartbeats: 4, heartbeatsRejected: 5, hookViews: 1, hookErrors: 0 })
    expect(health.body.engine.cachedViewers).toBe(3)

    // Redis: PeerTube's format under the plugin's prefix, nothing under PeerTube's own.
    const player1 = await waitFor(() => redis.get(`${prefix}local-video-viewer-stats-player-1-${LIVE.id}`))
    expect(JSON.parse(player1)).toMatchObject({ watchTime: 12, watchSections: [{ start: 0, end: 12 }] })
    expect((await redis.smembers(`${prefix}local-video-viewer-stats-keys`)).sort()).toEqual([
      `local-video-viewer-stats-hook-session-${LIVE.id}`,
      `local-video-viewer-stats-player-1-${LIVE.id}`,
      `local-video-viewer-stats-player-2-${VOD.id}`,
    ])
    // player-1 watched 12 s of a live (>= 10 s): one view, in the plugin's buffer.
    expect(await redis.get(`${prefix}local-video-views-buffer-${LIVE.id}`)).toBe('1')
    expect(await redis.keys(`redis-${host}-*`)).toEqual([])

    // After the stats lifetime the engine stores the viewers with watch time in plugin storage
    // (hook-session watched 0 s: no record, as in PeerTube).
    await waitFor(() => peertube.storage.has(`video-${VOD.id}`) && peertube.storage.has(`video-${LIVE.id}`), { timeout: 8000 })
    expect(JSON.parse(peertube.storage.get(`video-${LIVE.id}`))).toMatchObject({ viewers: 1, watchTime: 12, views: 0 })
    expect(JSON.parse(peertube.storage.get(`video-${VOD.id}`))).toMatchObject({ viewers: 1, watchTime: 5, views: 0 })
    await waitFor(async () => (await redis.scard(`${prefix}local-video-viewer-stats-keys`)) === 0, { timeout: 8000 })
    // The counters forget viewers after their lifetime.
    await waitFor(async () => (await peertube.call('GET', '/health')).body.viewers.local === 0, { timeout: 8000 })
    health = await peertube.call('GET', '/health')
    expect(health.body.plugin).toMatchObject({ viewersStored: 2, watchTimeStored: 17, storageErrors: 0 })

    await plugin.unregister()
    health = await peertube.call('GET', '/health')
    expect(health).toMatchObject({ status: 503, body: { status: 'closed' } })
    // The engine itself refuses: CLOSED, and the hook still never throws.
    expect(await beat({ videoId: LIVE.uuid, currentTime: 20, sessionId: 'player-1' })).toMatchObject({ status: 503, body: { code: 'CLOSED' } })
    await expect(viewed.handler({ video: LIVE, ip: '1.2.3.4', req: { body: { currentTime: 30 } } })).resolves.toBeUndefined()
    expect(peertube.records.some((r) => r.message.includes('cannot record a viewed video') && r.meta.code === 'CLOSED')).toBe(true)
  })

  test('a bad setting leaves PeerTube running: health reports it, a settings change recovers', async () => {
    const host = uniqueHost()
    const peertube = fakePeerTube({ webserverHost: host, settings: redisSettings({ 'viewer-stats-lifetime': '1 fortnight' }), videos: [LIVE] })
    await expect(plugin.register(peertube.options)).resolves.toBeUndefined()

    let health = await peertube.call('GET', '/health')
    expect(health).toMatchObject({ status: 503, body: { status: 'error', error: { code: 'INVALID_ARGUMENT' } } })
    expect(health.body.error.message).toMatch(/viewerStatsLifetime/)
    const beat = { videoId: LIVE.uuid, currentTime: 1, sessionId: 'after-fix' }
    expect(await peertube.call('POST', '/heartbeat', { body: beat })).toMatchObject({ status: 503, body: { code: 'INVALID_ARGUMENT' } })

    await peertube.changeSettings({ 'viewer-stats-lifetime': '1 hour', 'sync-redis-interval': '100' })
    health = await peertube.call('GET', '/health')
    expect(health).toMatchObject({ status: 200, body: { status: 'running' } })
    expect((await peertube.call('POST', '/heartbeat', { body: beat })).status).toBe(204)
    const prefix = `redis-plugin-native-views-${host}-`
    await waitFor(() => redis.get(`${prefix}local-video-viewer-stats-after-fix-${LIVE.id}`))

    // Another change rebuilds the engine on the new settings; the viewer is read back from Redis.
    await peertube.changeSettings({ 'viewer-counter-lifetime': '5 minutes' })
    expect((await peertube.call('GET', '/health')).body).toMatchObject({ status: 'running', viewers: { local: 0 } })
    expect((await peertube.call('POST', '/heartbeat', { body: { ...beat, currentTime: 6 } })).status).toBe(204)
    await waitFor(async () => JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-after-fix-${LIVE.id}`)).watchTime === 5)
    await plugin.unregister()
  })

  test('unregister flushes the engine, and nothing keeps the process alive after it', async () => {
    const host = uniqueHost()
    const child = spawnSync(process.execPath, [path.join(__dirname, 'register-child.js')], {
      env: { ...process.env, WEBSERVER_HOST: host },
      encoding: 'utf8',
      timeout: 15000,
    })
    expect(child.stderr).toBe('')
    expect(child.stdout).toBe('unregistered\n')
    expect(child.signal).toBeNull() // not killed by the timeout: it ended by itself
    expect(child.status).toBe(0)
    const stored = await redis.get(`redis-plugin-native-views-${host}-local-video-viewer-stats-child-5`)
    expect(JSON.parse(stored)).toMatchObject({ watchTime: 4, watchSections: [{ start: 0, end: 4 }] })
  })
})

describe('stats store', () => {
  test('concurrent callbacks on one video never lose an update; a storage failure is retried by the engine', async () => {
    const { createStatsStore } = require(path.join(pluginDir, 'lib', 'stats-store.js'))
    const data = new Map()
    let failNext = false
    const storageManager = {
      getData: async (key) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
        return data.get(key)
      },
      storeData: async (key, value) => {
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 3))
        if (failNext) {
          failNext = false
          throw new Error('disk full')
        }
        data.set(key, JSON.parse(JSON.stringify(value)))
      },
    }
    const store = createStatsStore({ storageManager, logger: { debug() {} } })
    const viewer = (i) => ({ videoId: 1, sessionId: `s${i}`, firstUpdated: 0, lastUpdated: 1000, watchSections: [], watchTime: i, country: i % 2 ? 'FR' : null })
    await Promise.all([
      ...Array.from({ length: 50 }, (_, i) => store.host.saveViewerStats(viewer(i + 1))),
      store.host.incrementVideoViews({ videoId: 1, views: 7 }),
      store.host.incrementVideoViews({ videoId: 2, views: 1 }),
    ])
    expect(await store.read(1)).toMatchObject({ viewers: 50, watchTime: 1275, views: 7, countries: { FR: 25 } })
    expect(await store.read(2)).toMatchObject({ viewers: 0, views: 1 })
    failNext = true
    await expect(store.host.saveViewerStats(viewer(100))).rejects.toThrow('disk full')
    expect(await store.read(1)).toMatchObject({ viewers: 50, watchTime: 1275 })
    expect(store.totals).toMatchObject({ viewersStored: 50, watchTimeStored: 1275, viewsCounted: 8, storageErrors: 1 })
  })
})
