// Sentinel failover under load (issue 6, item 2): master + replica + 3 sentinels on loopback,
// the manager connected through the sentinels, the master SIGKILLed while viewers watch. After
// the failover nothing is lost: every viewer's sections and every counted view reach the host.
//
// Redis replication is asynchronous: a write the old master acknowledged but had not yet sent to
// the replica dies with it. The engine closes that window for viewer stats (after a reconnection
// it writes every cached viewer again where the key is missing). For views, the window is
// Redis' own: the test waits for the replica (WAIT) right before the kill, which is what
// replication guarantees, and counts exactly.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const Redis = require('ioredis')
const { VideoViewsManager } = require('../../index.js')
const { startRedis, startSentinel } = require('../helpers/redis-server')
const { recordingLogger, sleep, waitFor } = require('../helpers/env')
const { applyHeartbeat, watchTime } = require('../helpers/viewers')

const NAME = 'pnvfailover'
const VIEWERS = 200
const RATE = 200 // heartbeats per second: each viewer beats once a second
const DURATION_MS = 14_000
const KILL_AT_MS = 4_000

let dir
let master
let replica
const sentinels = []
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-failover-'))
  master = await startRedis({ args: ['--repl-diskless-sync-delay', '0'] })
  replica = await startRedis({ args: ['--replicaof', '127.0.0.1', String(master.port)] })
  for (let i = 0; i < 3; i++) {
    sentinels.push(await startSentinel({ masterPort: master.port, name: NAME, dir, quorum: 2, replicaPorts: [replica.port] }))
  }
  // Each sentinel must know the two others (hello messages, every 2 s) to elect a leader.
  const clients = sentinels.map((s) => new Redis({ host: '127.0.0.1', port: s.port }))
  try {
    await waitFor(
      async () => {
        const states = await Promise.all(clients.map((c) => c.call('SENTINEL', 'MASTER', NAME)))
        return states.every((flat) => {
          const state = Object.fromEntries(flat.reduce((pairs, v, i) => (i % 2 ? pairs : [...pairs, [v, flat[i + 1]]]), []))
          return state['num-other-sentinels'] === '2' && state['num-slaves'] === '1'
        })
      },
      { timeout: 20_000, interval: 200 },
    )
  } finally {
    clients.forEach((c) => c.disconnect())
  }
}, 40_000)
afterAll(async () => {
  await Promise.all([...sentinels, replica, master].map((s) => s?.stop()))
  fs.rmSync(dir, { recursive: true, force: true })
})

test('the master killed under load: viewer stats and views survive the failover', async () => {
  const { logger } = recordingLogger('warn')
  const stored = []
  const incremented = []
  const manager = new VideoViewsManager({
    redis: {
      hostname: null,
      port: null,
      sentinel: { enabled: true, master_name: NAME, sentinels: sentinels.map((s) => ({ hostname: '127.0.0.1', port: s.port })) },
      connectTimeout: 1000,
      responseTimeout: 2000,
    },
    webserverHost: 'failover.example',
    syncRedisInterval: 500,
    viewerStatsLifetime: '5 seconds',
    viewerCounterLifetime: '1 minute',
    localBufferUpdateInterval: '1 hour',
    countViewAfter: '3 seconds',
    logger,
    host: {
      saveViewerStats: async (v) => stored.push(v),
      loadVideo: async () => null,
      notifyClients: () => {},
      sendView: async () => {},
      incrementVideoViews: async (v) => incremented.push(v),
      saveHourlyViews: async () => {},
    },
  })
  const video = { id: 3, uuid: 'dddddddd-0000-4000-8000-000000000003', remote: false, isLive: true }
  const viewers = Array.from({ length: VIEWERS }, (_, i) => ({ sessionId: `failover-${i}`, t: 0, sections: [] }))
  const onMaster = new Redis({ host: '127.0.0.1', port: master.port })
  let sent = 0
  let failed = 0
  let views = 0
  let paused = false
  try {
    const started = Date.now()
    const kill = (async () => {
      await sleep(KILL_AT_MS)
      // Everything the master acknowledged is on the replica: what replication guarantees.
      paused = true
      await onMaster.call('WAIT', '1', '2000')
      master.proc.kill('SIGKILL')
      const killedAt = Date.now()
      paused = false
      // How long until writes reach Redis again (a sync that wrote something), through the
      // sentinels, on the new master.
      await waitFor(async () => manager.syncRedisWrites().then(({ written }) => written > 0, () => false), { timeout: 30_000, interval: 100 })
      return Date.now() - killedAt
    })()
    while (Date.now() - started < DURATION_MS) {
      const due = Math.floor(((Date.now() - started) * RATE) / 1000)
      for (; sent < due && !paused; sent++) {
        const v = viewers[sent % VIEWERS]
        const seek = v.sections.length === 0
        v.t += 1
        applyHeartbeat(v.sections, v.t, seek)
        try {
          const { successView } = await manager.processLocalView({ video, currentTime: v.t, sessionId: v.sessionId, ...(seek ? { viewEvent: 'seek' } : {}) })
          if (successView) views++
        } catch {
          failed++
        }
      }
      await sleep(10)
    }
    const recoveredIn = await kill

    const addr = await waitFor(
      async () => {
        const client = new Redis({ host: '127.0.0.1', port: sentinels[0].port })
        try {
          const [, port] = await client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', NAME)
          return Number(port) === replica.port && port
        } finally {
          client.disconnect()
        }
      },
      { timeout: 15_000, interval: 200 },
    )
    await manager.syncRedisWrites()
    await sleep(5_200)
    await manager.processViewerStats()
    await waitFor(async () => manager.processViewsBuffer().then(() => true, () => false), { timeout: 5_000, interval: 200 })

    const expected = viewers.reduce((sum, v) => sum + watchTime(v.sections), 0)
    const persisted = stored.reduce((sum, r) => sum + r.watchTime, 0)
    const drained = incremented.reduce((sum, r) => sum + r.views, 0)
    console.log(
      `${sent} heartbeats, ${failed} failed; new master on port ${addr}, writes recovered ${recoveredIn} ms after the kill; ` +
        `watch time expected ${expected} s, persisted ${persisted} s; views counted ${views}, drained ${drained}`,
    )
    expect(failed).toBe(0)
    expect(stored.length).toBe(VIEWERS)
    for (const v of viewers) {
      const record = stored.find((r) => r.sessionId === v.sessionId)
      expect({ sessionId: v.sessionId, sections: record?.watchSections }).toEqual({ sessionId: v.sessionId, sections: v.sections })
    }
    expect(persisted).toBe(expected)
    expect(views).toBe(VIEWERS)
    expect(drained).toBe(views)
  } finally {
    onMaster.disconnect()
    await manager.close().catch(() => {})
  }
}, 90_000)
