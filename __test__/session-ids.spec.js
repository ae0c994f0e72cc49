// Session ids as PeerTube 6.1 takes them: it does not validate `sessionId` (its own tests send
// '8.8.8.8,127.0.0.1'), an empty one means "identify by IP", and with
// `trust_viewer_session_id: false` it is ignored. The engine accepts any text up to 256 UTF-8
// bytes, stores it byte for byte in PeerTube's keys, and hands it back to the host unchanged.
const crypto = require('node:crypto')
const { VideoViewsManager } = require('../index.js')
const { redisSection, inspector, uniqueHost } = require('./helpers/env')

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

const VIDEO = { id: 31, uuid: 'bbbbbbbb-0000-4000-8000-000000000031', remote: false, duration: 100, isLive: false }
const sha256 = (text) => crypto.createHash('sha256').update(text).digest('hex')
const ipIdentity = (ip) => sha256(`[object Object]-${ip}`)

function makeManager(options = {}) {
  const webserverHost = uniqueHost()
  const saved = []
  const manager = new VideoViewsManager({
    redis: redisSection(),
    webserverHost,
    autoStart: false,
    viewersFederationV2: true,
    viewerStatsLifetime: 1,
    ...options,
    host: {
      saveViewerStats: async (v) => saved.push(v),
      loadVideo: async () => VIDEO,
      notifyClients: () => {},
      sendView: async () => {},
      incrementVideoViews: async () => {},
      saveHourlyViews: async () => {},
    },
  })
  managers.push(manager)
  return { manager, saved, prefix: `redis-${webserverHost}-` }
}

const ODD_BUT_ACCEPTED = [
  '8.8.8.8,127.0.0.1', // PeerTube's own overall-stats test
  'a b',
  'with "quotes" and \\ backslash',
  'line\nbreak\ttab',
  'é-ü-😀',
  '\u0000nul',
  'trailing-',
  'x'.repeat(256),
  'é'.repeat(128), // 256 bytes in UTF-8
]

test('every session id PeerTube 6.1 accepts is stored under its own key and reaches the host unchanged', async () => {
  const { manager, saved, prefix } = makeManager()
  for (const sessionId of ODD_BUT_ACCEPTED) {
    await manager.processLocalView({ video: VIDEO, currentTime: 1, ip: '1.2.3.4', sessionId, viewEvent: 'seek' })
    await manager.processLocalView({ video: VIDEO, currentTime: 4, ip: '1.2.3.4', sessionId })
  }
  expect(await manager.syncRedisWrites()).toEqual({ written: ODD_BUT_ACCEPTED.length })

  const members = await redis.smembers(`${prefix}local-video-viewer-stats-keys`)
  const expected = ODD_BUT_ACCEPTED.map((s) => `local-video-viewer-stats-${s}-${VIDEO.id}`)
  expect(members.sort()).toEqual([...expected].sort())
  for (const key of expected) {
    const value = JSON.parse(await redis.get(prefix + key))
    expect(value).toMatchObject({ watchSections: [{ start: 1, end: 4 }], watchTime: 3, videoId: VIDEO.id })
  }

  await new Promise((resolve) => setTimeout(resolve, 5))
  const report = await manager.processViewerStats()
  expect(report).toMatchObject({ expired: ODD_BUT_ACCEPTED.length, persisted: ODD_BUT_ACCEPTED.length, failed: 0 })
  expect(saved.map((v) => v.sessionId).sort()).toEqual([...ODD_BUT_ACCEPTED].sort())
  expect(saved.every((v) => v.watchTime === 3)).toBe(true)
  expect(await redis.smembers(`${prefix}local-video-viewer-stats-keys`)).toEqual([])
})

test('an empty sessionId identifies the viewer by IP, as PeerTube does', async () => {
  const { manager, prefix } = makeManager()
  await manager.processLocalView({ video: VIDEO, currentTime: 1, ip: '9.9.9.9', sessionId: '', viewEvent: 'seek' })
  await manager.processLocalView({ video: VIDEO, currentTime: 3, ip: '9.9.9.9', sessionId: null })
  await manager.syncRedisWrites()
  const members = await redis.smembers(`${prefix}local-video-viewer-stats-keys`)
  expect(members).toEqual([`local-video-viewer-stats-${ipIdentity('9.9.9.9')}-${VIDEO.id}`])
  expect(await manager.getWatchTime(VIDEO.id, ipIdentity('9.9.9.9'))).toBe(2)
})

test('with trustViewerSessionId: false the sessionId is ignored entirely, whatever it is', async () => {
  const { manager, prefix } = makeManager({ trustViewerSessionId: false })
  // Values the engine would refuse when trusted (too long, not a string) are not even read.
  for (const sessionId of ['abc', 'x'.repeat(5000), 42, { toString: () => 'x' }]) {
    await manager.processLocalView({ video: VIDEO, currentTime: 2, ip: '7.7.7.7', sessionId })
  }
  await manager.syncRedisWrites()
  expect(await redis.smembers(`${prefix}local-video-viewer-stats-keys`)).toEqual([
    `local-video-viewer-stats-${ipIdentity('7.7.7.7')}-${VIDEO.id}`,
  ])
  // The positional path (the bound function) follows the same rule.
  const bound = manager.processLocalViewFunction()
  const args = (sessionId) => [VIDEO.id, VIDEO.uuid, false, 100, false, 3, '7.7.7.7', sessionId, null]
  await bound(...args('x'.repeat(5000)))
  await bound(...args(7))
  expect(await manager.getWatchTime(VIDEO.id, ipIdentity('7.7.7.7'))).toBe(1)
})

test('beyond 256 bytes a trusted sessionId is refused with INVALID_ARGUMENT and nothing changes', async () => {
  const { manager, prefix } = makeManager()
  for (const sessionId of ['x'.repeat(257), 'é'.repeat(129), 42]) {
    const err = await Promise.resolve(manager.processLocalView({ video: VIDEO, currentTime: 1, ip: '1.2.3.4', sessionId })).catch((e) => e)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(/^sessionId must/)
  }
  await manager.syncRedisWrites()
  expect(await redis.keys(`${prefix}*`)).toEqual([])
  expect(manager.getInternalStats().cachedViewers).toBe(0)
})
