// User-agent stats (PeerTube >= 7.2) and `peertubeVersion`: the parser's agreement with
// ua-parser-js 2.x on real-traffic corpora, the fields in Redis and in saveViewerStats for 8.x
// (never for 6.1, whose JSON stays byte for byte PeerTube's), body fields winning, bad input
// refused with nothing changed, and the federation default of 7.1.
const { VideoViewerStats, VideoViewerCounters, VideoViewsManager, parseUserAgent } = require('../index.js')
const { FIELDS, agreement, loadCorpora, reference } = require('../bench/user-agent-corpora')
const { redisSection, inspector, uniqueHost, waitFor, sleep } = require('./helpers/env')

// The three user agents of PeerTube 8's own user-agent stats test.
const EDGE_WINDOWS = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 Edg/132.0.0.0'
const EDGE_ANDROID = 'Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.6943.49 Mobile Safari/537.36 EdgA/131.0.2903.87'
const CHROME_LINUX = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36'

const SET = 'local-video-viewer-stats-keys'
const video = { id: 42, uuid: '0b9a8f3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b', remote: false }

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
  const host = uniqueHost()
  const stats = new VideoViewerStats({
    redis: redisSection(),
    webserverHost: host,
    geoIp: null,
    autoStart: false,
    viewerStatsLifetime: 200,
    saveViewerStats: async (viewer) => {
      saved.push(viewer)
    },
    ...options,
  })
  engines.push(stats)
  return { stats, saved, prefix: `redis-${host}-` }
}

async function storedJson(prefix, sessionId) {
  return redis.get(`${prefix}local-video-viewer-stats-${sessionId}-${video.id}`)
}

describe('the parser agrees with ua-parser-js 2.x', () => {
  test.each(loadCorpora().map((c) => [c.source, c]))('%s: at least 99 % on each field', (_source, corpus) => {
    const result = agreement(corpus, parseUserAgent)
    for (const field of FIELDS) {
      const { share, mismatches } = result[field]
      if (share < 0.99) console.log(field, mismatches.slice(0, 10))
      expect(share).toBeGreaterThanOrEqual(0.99)
    }
    expect(corpus.entries.length).toBeGreaterThanOrEqual(100)
  })

  test("PeerTube 8's test user agents, exactly", () => {
    expect(parseUserAgent(EDGE_WINDOWS)).toEqual({ client: 'Edge', device: 'desktop', operatingSystem: 'Windows' })
    expect(parseUserAgent(EDGE_ANDROID)).toEqual({ client: 'Edge', device: 'mobile', operatingSystem: 'Android' })
    expect(parseUserAgent(CHROME_LINUX)).toEqual({ client: 'Chrome', device: 'desktop', operatingSystem: 'Linux' })
    for (const ua of [EDGE_WINDOWS, EDGE_ANDROID, CHROME_LINUX]) expect(parseUserAgent(ua)).toEqual(reference(ua))
  })

  test('nothing recognised is null; a huge header is cut, not refused; a non-string is INVALID_ARGUMENT', () => {
    expect(parseUserAgent('')).toEqual({ client: null, device: null, operatingSystem: null })
    expect(parseUserAgent('curl/8.5.0')).toEqual(reference('curl/8.5.0'))
    const huge = `${CHROME_LINUX} ${'x'.repeat(100_000)}`
    expect(parseUserAgent(huge)).toEqual(parseUserAgent(CHROME_LINUX))
    expect(() => parseUserAgent(42)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})

describe('viewer stats of PeerTube 8 carry the user agent', () => {
  test('Redis JSON: the three fields before videoId; the record: the same three', async () => {
    const { stats, saved, prefix } = makeStats({ peertubeVersion: '8.0' })
    await stats.addLocalViewer({ video, currentTime: 1, ip: '1.2.3.4', sessionId: 'edge', userAgent: EDGE_ANDROID })
    await stats.addLocalViewer({ video, currentTime: 4, ip: '1.2.3.4', sessionId: 'edge', userAgent: CHROME_LINUX })
    await stats.syncRedisWrites()
    const raw = await storedJson(prefix, 'edge')
    const parsed = JSON.parse(raw)
    expect(Object.keys(parsed)).toEqual([
      'firstUpdated', 'lastUpdated', 'watchSections', 'watchTime', 'country', 'subdivisionName',
      'client', 'device', 'operatingSystem', 'videoId',
    ])
    // Parsed once, for the new viewer: the second heartbeat's header changes nothing.
    expect(parsed).toMatchObject({ client: 'Edge', device: 'mobile', operatingSystem: 'Android', watchTime: 3 })
    await sleep(250)
    await stats.processViewerStats()
    expect(saved).toEqual([
      expect.objectContaining({ sessionId: 'edge', watchTime: 3, client: 'Edge', device: 'mobile', operatingSystem: 'Android' }),
    ])
  })

  test("the body's fields win one by one; a device outside PeerTube's list is null; nothing known is null", async () => {
    const { stats, saved, prefix } = makeStats({ peertubeVersion: '8.2.3' })
    await stats.addLocalViewer({
      video, currentTime: 0, sessionId: 'app', userAgent: EDGE_WINDOWS, client: 'PeerTube iOS', device: 'phone',
    })
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'bare' })
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'tv', device: 'smarttv', operatingSystem: 'Tizen' })
    await stats.syncRedisWrites()
    expect(JSON.parse(await storedJson(prefix, 'app'))).toMatchObject({ client: 'PeerTube iOS', device: null, operatingSystem: 'Windows' })
    expect(JSON.parse(await storedJson(prefix, 'bare'))).toMatchObject({ client: null, device: null, operatingSystem: null })
    expect(JSON.parse(await storedJson(prefix, 'tv'))).toMatchObject({ client: null, device: 'smarttv', operatingSystem: 'Tizen' })
    expect(saved).toEqual([])
  })

  test('bad user-agent input is INVALID_ARGUMENT and changes nothing', async () => {
    const { stats, prefix } = makeStats({ peertubeVersion: '8.0' })
    for (const bad of [{ userAgent: 5 }, { client: {} }, { device: 3 }, { operatingSystem: 'x'.repeat(257) }]) {
      await expect(stats.addLocalViewer({ video, currentTime: 0, sessionId: 'bad', ...bad })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      })
    }
    expect(await stats.syncRedisWrites()).toEqual({ written: 0 })
    expect(await storedJson(prefix, 'bad')).toBeNull()
  })

  test("a PeerTube 8 object in Redis is read back with its fields, in PeerTube's or any order", async () => {
    const { stats, saved, prefix } = makeStats({ peertubeVersion: '8.0' })
    const now = Date.now()
    const member = `local-video-viewer-stats-pt8-${video.id}`
    await redis.set(
      `${prefix}${member}`,
      JSON.stringify({ videoId: 42, operatingSystem: 'iOS', device: 'tablet', client: 'Mobile Safari', country: 'FR', subdivisionName: null, watchTime: 5, watchSections: [{ start: 0, end: 5 }], lastUpdated: now - 1000, firstUpdated: now - 6000 }),
    )
    await redis.sadd(`${prefix}${SET}`, member)
    await stats.addLocalViewer({ video, currentTime: 7, sessionId: 'pt8', userAgent: CHROME_LINUX })
    await stats.syncRedisWrites()
    // The object PeerTube created first keeps what it derived then (the later header changes nothing).
    const merged = JSON.parse(await storedJson(prefix, 'pt8'))
    expect(merged).toMatchObject({ client: 'Mobile Safari', device: 'tablet', operatingSystem: 'iOS', country: 'FR' })
    // Read before the heartbeat ([0, 7]) or merged behind it at the sync ([0, 5], [7, 7]),
    // depending on whether the engine had listed the set yet: both keep every second.
    expect(merged.watchSections[0].start).toBe(0)
    expect(merged.watchSections.at(-1).end).toBe(7)
    await sleep(250)
    await stats.processViewerStats()
    expect(saved).toEqual([expect.objectContaining({ client: 'Mobile Safari', device: 'tablet', operatingSystem: 'iOS' })])
  })
})

describe('PeerTube 6.1 stays byte for byte', () => {
  test.each([[undefined], ['6.1'], ['7.0.1'], ['7.1']])('peertubeVersion %s: no user-agent field anywhere', async (peertubeVersion) => {
    const { stats, saved, prefix } = makeStats(peertubeVersion ? { peertubeVersion } : {})
    await stats.addLocalViewer({ video, currentTime: 2, sessionId: 'old', userAgent: EDGE_ANDROID, client: 5 })
    await stats.addLocalViewer({ video, currentTime: 6, sessionId: 'old' })
    await stats.syncRedisWrites()
    const raw = await storedJson(prefix, 'old')
    const parsed = JSON.parse(raw)
    expect(raw).toBe(
      JSON.stringify({
        firstUpdated: parsed.firstUpdated, lastUpdated: parsed.lastUpdated, watchSections: [{ start: 2, end: 6 }],
        watchTime: 4, country: null, subdivisionName: null, videoId: 42,
      }),
    )
    await sleep(250)
    await stats.processViewerStats()
    expect(saved).toHaveLength(1)
    expect(Object.keys(saved[0]).sort()).toEqual(
      ['firstUpdated', 'lastUpdated', 'country', 'sessionId', 'subdivisionName', 'videoId', 'watchSections', 'watchTime'].sort(),
    )
  })
})

describe('peertubeVersion', () => {
  test.each([['6.0'], ['seven'], [''], [7.1]])('%p is INVALID_ARGUMENT', (peertubeVersion) => {
    expect(() => makeStats({ peertubeVersion })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })

  const LOCAL = { id: 1, uuid: '11111111-1111-4111-8111-111111111111', remote: false }
  function makeCounters(options) {
    const sent = []
    const counters = new VideoViewerCounters({
      viewerCounterLifetime: 400,
      autoStart: false,
      loadVideo: async () => LOCAL,
      notifyClients: () => {},
      sendView: async (view) => {
        sent.push(view)
      },
      ...options,
    })
    engines.push(counters)
    return { counters, sent }
  }

  test.each([
    ['6.1', undefined, false],
    ['7.0.1', undefined, false],
    ['7.1', undefined, true],
    ['8.0', undefined, true],
    ['8.0', false, false],
    ['6.1', true, true],
  ])('%s with viewersFederationV2 %p: v2 is %p', async (peertubeVersion, viewersFederationV2, v2) => {
    const { counters, sent } = makeCounters({ peertubeVersion, viewersFederationV2 })
    await counters.addLocalViewer({ video: LOCAL, sessionId: 'alice' })
    await counters.addLocalViewer({ video: LOCAL, sessionId: 'bob' })
    if (v2) {
      // No View per viewer; the cleanup sends the total, `result` included.
      await sleep(50)
      expect(sent).toEqual([])
      expect(await counters.cleanViewerCounters()).toMatchObject({ federated: 1 })
      await waitFor(() => sent.length === 1)
      expect(sent[0]).toMatchObject({ video: LOCAL, viewersCount: 2 })
    } else {
      await waitFor(() => sent.length === 2)
      expect(sent.map((v) => v.viewersCount)).toEqual([1, 1])
    }
  })

  test('the manager reads the user agent of processLocalView for 8.x only', async () => {
    const made = (peertubeVersion) => {
      const saved = []
      const host = uniqueHost()
      const manager = new VideoViewsManager({
        redis: redisSection(),
        webserverHost: host,
        peertubeVersion,
        autoStart: false,
        viewerStatsLifetime: 200,
        host: {
          saveViewerStats: async (v) => saved.push(v),
          loadVideo: async () => video,
          notifyClients: () => {},
          sendView: async () => {},
          incrementVideoViews: async () => {},
          saveHourlyViews: async () => {},
        },
      })
      engines.push(manager)
      return { manager, prefix: `redis-${host}-` }
    }
    for (const [version, expected] of [['8.0', 'Chrome'], ['6.1', undefined]]) {
      const { manager, prefix } = made(version)
      await manager.processLocalView({ video, currentTime: 1, ip: '9.9.9.9', sessionId: 'm', userAgent: CHROME_LINUX })
      expect(await manager.syncRedisWrites()).toEqual({ written: 1 })
      expect(JSON.parse(await storedJson(prefix, 'm')).client).toBe(expected)
    }
  })
})
