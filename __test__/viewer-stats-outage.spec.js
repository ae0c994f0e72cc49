// Redis outages: heartbeats keep succeeding, failed writes stay pending and are retried, and a
// viewer first seen during the outage is merged with what Redis held once it is back.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const Redis = require('ioredis')
const { VideoViewerStats } = require('../index.js')
const { startRedis } = require('./helpers/redis-server')
const { waitFor } = require('./helpers/env')

const video = { id: 42, uuid: 'outage-video' }
const member = (session) => `local-video-viewer-stats-${session}-42`

let dir
let server
let client
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-outage-'))
  // AOF with fsync on every write: what was written before the kill survives the restart.
  server = await startRedis({ dir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
  client = new Redis({ host: '127.0.0.1', port: server.port, maxRetriesPerRequest: 1, retryStrategy: () => 200 })
})
afterAll(async () => {
  client.disconnect()
  await server.stop()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('kill -9 Redis: heartbeats succeed, writes wait, nothing is lost after the restart', async () => {
  const prefix = 'redis-outage.example-'
  const stats = new VideoViewerStats({
    redis: { hostname: '127.0.0.1', port: server.port, connectTimeout: 500, responseTimeout: 1000 },
    webserverHost: 'outage.example',
    autoStart: false,
    saveViewerStats: async () => {},
  })
  // A viewer PeerTube wrote before this process started.
  const seeded = { firstUpdated: 1000, lastUpdated: Date.now(), watchSections: [{ start: 0, end: 20 }], watchTime: 20, country: 'FR', subdivisionName: null, videoId: 42 }
  await client.sadd(`${prefix}local-video-viewer-stats-keys`, member('seeded'))
  await client.set(`${prefix}${member('seeded')}`, JSON.stringify(seeded))

  await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'cached' })
  await stats.addLocalViewer({ video, currentTime: 5, sessionId: 'cached' })
  expect(await stats.syncRedisWrites()).toEqual({ written: 1 })

  await server.stop('SIGKILL')

  // All of these resolve although Redis is gone.
  await stats.addLocalViewer({ video, currentTime: 10, sessionId: 'cached' })
  await stats.addLocalViewer({ video, currentTime: 25, sessionId: 'seeded', viewEvent: 'seek' })
  await stats.addLocalViewer({ video, currentTime: 30, sessionId: 'seeded' })
  await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'newcomer' })
  await stats.addLocalViewer({ video, currentTime: 3, sessionId: 'newcomer' })

  const failure = await stats.syncRedisWrites().catch((e) => e)
  expect(failure.code).toBe('REDIS_UNAVAILABLE')
  expect(stats.getInternalStats()).toMatchObject({ pendingWrites: 3 })
  expect(stats.getInternalStats().redisErrors).toBeGreaterThanOrEqual(1)
  // close() cannot flush either: it says so and keeps everything for a retry.
  expect((await stats.close().catch((e) => e)).code).toBe('REDIS_UNAVAILABLE')

  server = await startRedis({ port: server.port, dir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
  await waitFor(() => stats.close().then(() => true, () => false), { timeout: 10000, interval: 300 })
  expect(stats.getInternalStats()).toMatchObject({ pendingWrites: 0 })

  const read = async (session) => JSON.parse(await client.get(`${prefix}${member(session)}`))
  expect((await read('cached')).watchSections).toEqual([{ start: 0, end: 10 }])
  expect(await read('newcomer')).toMatchObject({ watchSections: [{ start: 0, end: 3 }], watchTime: 3 })
  // Seen first during the outage: merged behind what Redis held, nothing overwritten.
  expect(await read('seeded')).toMatchObject({
    firstUpdated: 1000,
    watchSections: [{ start: 0, end: 20 }, { start: 25, end: 30 }],
    watchTime: 25,
    country: 'FR',
  })
  expect((await client.smembers(`${prefix}local-video-viewer-stats-keys`)).sort()).toEqual(
    [member('cached'), member('newcomer'), member('seeded')].sort(),
  )
})

test('Redis down for long: pending writes are capped by maxPendingWrites, with a warning and a metric', async () => {
  const prefix = 'redis-capped.example-'
  const records = []
  const stats = new VideoViewerStats({
    redis: { hostname: '127.0.0.1', port: server.port, connectTimeout: 300, responseTimeout: 500 },
    webserverHost: 'capped.example',
    autoStart: false,
    maxPendingWrites: 5,
    logger: { warn: (message, meta) => records.push({ message, meta }) },
    saveViewerStats: async () => {},
  })
  await server.stop('SIGKILL')
  for (let i = 0; i < 10; i++) {
    await stats.addLocalViewer({ video, currentTime: 0, sessionId: `capped-${i}` })
  }
  expect(stats.getInternalStats()).toMatchObject({ cachedViewers: 5, pendingWrites: 5, droppedHeartbeats: 5 })
  // Viewers already in memory keep being updated: that costs no memory.
  await stats.addLocalViewer({ video, currentTime: 9, sessionId: 'capped-0' })
  expect(await stats.getWatchTime(42, 'capped-0')).toBe(9)
  await waitFor(() => records.some((r) => r.message.startsWith('Too many viewer stats waiting for Redis')))
  const warning = records.find((r) => r.message.startsWith('Too many viewer stats waiting for Redis'))
  expect(warning.meta).toMatchObject({ maxPendingWrites: 5, droppedHeartbeats: 1 })

  server = await startRedis({ port: server.port, dir, args: ['--appendonly', 'yes', '--appendfsync', 'always'] })
  await waitFor(() => stats.close().then(() => true, () => false), { timeout: 10000, interval: 300 })
  const stored = (await client.smembers(`${prefix}local-video-viewer-stats-keys`)).sort()
  expect(stored).toEqual([0, 1, 2, 3, 4].map((i) => member(`capped-${i}`)).sort())
  expect(JSON.parse(await client.get(`${prefix}${member('capped-0')}`)).watchSections).toEqual([{ start: 0, end: 9 }])
})
