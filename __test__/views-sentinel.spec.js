// The manager connected through a real Redis Sentinel (master + replica + sentinel, all on
// free loopback ports started by the test).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const Redis = require('ioredis')
const { VideoViewsManager } = require('../index.js')
const { startRedis, startSentinel } = require('./helpers/redis-server')
const { waitFor } = require('./helpers/env')

let dir
let master
let replica
let sentinel
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-sentinel-'))
  // No 5 s wait before the first full sync to the replica.
  master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] })
  replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
  sentinel = await startSentinel({ masterPort: master.port, name: 'pnvmaster', dir })
})
afterAll(async () => {
  await Promise.all([sentinel, replica, master].map((s) => s?.stop()))
  fs.rmSync(dir, { recursive: true, force: true })
})

test('views, viewers and viewer stats through Sentinel land on the master and replicate', async () => {
  const incremented = []
  const saved = []
  const manager = new VideoViewsManager({
    redis: {
      hostname: null,
      port: null,
      sentinel: { enabled: true, master_name: 'pnvmaster', sentinels: [{ hostname: '127.0.0.1', port: sentinel.port }] },
    },
    webserverHost: 'sentinel.example',
    autoStart: false,
    countViewAfter: '1 second',
    viewerStatsLifetime: 100,
    host: {
      saveViewerStats: async (v) => saved.push(v),
      loadVideo: async () => null,
      notifyClients: () => {},
      sendView: async () => {},
      incrementVideoViews: async (v) => incremented.push(v),
      saveHourlyViews: async () => {},
    },
  })
  const video = { id: 5, uuid: 'cccccccc-0000-4000-8000-000000000005', remote: false, duration: 60 }
  const first = await manager.processLocalView({ video, currentTime: 0, sessionId: 'via-sentinel', viewEvent: 'seek' })
  expect(first).toEqual({ successView: false, successViewer: true })
  const second = await manager.processLocalView({ video, currentTime: 2, sessionId: 'via-sentinel' })
  expect(second).toEqual({ successView: true, successViewer: false })
  await manager.syncRedisWrites()

  const onMaster = new Redis({ host: '127.0.0.1', port: master.port })
  const onReplica = new Redis({ host: '127.0.0.1', port: replica.port })
  try {
    expect(await onMaster.get(`redis-sentinel.example-views-${video.uuid}-via-sentinel`)).toBe('1')
    expect(JSON.parse(await onMaster.get('redis-sentinel.example-local-video-viewer-stats-via-sentinel-5')).watchTime).toBe(2)
    await waitFor(async () => (await onReplica.get('redis-sentinel.example-local-video-views-buffer-5')) === '1')

    expect(await manager.processViewsBuffer()).toMatchObject({ views: 1 })
    expect(incremented).toEqual([{ videoId: 5, views: 1 }])
    await new Promise((r) => setTimeout(r, 150))
    expect(await manager.processViewerStats()).toMatchObject({ persisted: 1 })
    expect(saved).toHaveLength(1)
    expect(await onMaster.keys('redis-sentinel.example-local-video-viewer-stats-*')).toEqual([])
  } finally {
    onMaster.disconnect()
    onReplica.disconnect()
    await manager.close()
  }
})
