// Redis restart under load (issue 6, item 1): 1,000 heartbeats/s from 200 viewers for 20 s;
// redis-server is killed (SIGKILL) for 5 s in the middle and restarted empty on the same port.
// Heartbeats keep succeeding, and after recovery and a final sync + process the watch time
// persisted equals what the heartbeats implied: nothing lost, nothing twice. That includes
// viewers that stopped before the kill: synced, idle, and gone from the restarted Redis, they are
// written again from memory after the reconnection.
const { VideoViewerStats } = require('../../index.js')
const { startRedis } = require('../helpers/redis-server')
const { recordingLogger, sleep, waitFor } = require('../helpers/env')
const { applyHeartbeat, watchTime } = require('../helpers/viewers')

const VIEWERS = 200
const RATE = 1000 // heartbeats per second
const DURATION_MS = 20_000
const KILL_AT_MS = 7_500
const OUTAGE_MS = 5_000
const IDLE_VIEWERS = 20 // watch during the first 5 s only

test('1,000 heartbeats/s across a Redis SIGKILL and restart: 0 watch seconds lost, no duplicates', async () => {
  let server = await startRedis()
  const port = server.port
  const { logger } = recordingLogger('warn')
  const stored = []
  const stats = new VideoViewerStats({
    redis: { hostname: '127.0.0.1', port },
    webserverHost: 'restart.example',
    syncRedisInterval: '1 second',
    viewerStatsLifetime: '12 seconds', // longer than the idle viewers' silence before the kill
    logger,
    saveViewerStats: async (viewer) => {
      stored.push(viewer)
    },
  })
  const viewers = Array.from({ length: VIEWERS }, (_, i) => ({ sessionId: `restart-${i}`, videoId: 1 + (i % 10), t: 0, beats: 0, sections: [] }))
  const idle = Array.from({ length: IDLE_VIEWERS }, (_, i) => ({ sessionId: `idle-${i}`, videoId: 99, t: 0, beats: 0, sections: [] }))
  let sent = 0
  let failed = 0
  let duringOutage = 0
  let down = false
  try {
    const started = Date.now()
    const outage = (async () => {
      await sleep(KILL_AT_MS)
      down = true
      await server.stop('SIGKILL')
      await sleep(OUTAGE_MS)
      server = await startRedis({ port })
      down = false
    })()
    // One tick every 10 ms sends what the rate asks for by now, round-robin over the viewers.
    while (Date.now() - started < DURATION_MS) {
      if (Date.now() - started < 5_000) {
        for (const v of idle) {
          v.t += 1
          applyHeartbeat(v.sections, v.t)
          await stats.addLocalViewer({ video: { id: v.videoId, uuid: 'uuid-idle' }, currentTime: v.t, sessionId: v.sessionId })
        }
      }
      const due = Math.floor(((Date.now() - started) * RATE) / 1000)
      for (; sent < due; sent++) {
        const v = viewers[sent % VIEWERS]
        const seek = v.beats > 0 && v.beats % 25 === 0
        v.t = seek ? v.t + 100 : v.t + 1
        v.beats++
        applyHeartbeat(v.sections, v.t, seek)
        if (down) duringOutage++
        try {
          await stats.addLocalViewer({ video: { id: v.videoId, uuid: `uuid-${v.videoId}` }, currentTime: v.t, sessionId: v.sessionId, ...(seek ? { viewEvent: 'seek' } : {}) })
        } catch {
          failed++
        }
      }
      await sleep(10)
    }
    await outage
    const elapsed = (Date.now() - started) / 1000

    // Recovery: the next syncs succeed, then every viewer expires and is processed.
    await waitFor(async () => (await stats.syncRedisWrites().then(() => true, () => false)), { timeout: 15_000, interval: 200 })
    await sleep(12_200)
    await stats.processViewerStats()

    const all = [...viewers, ...idle]
    const expected = all.reduce((sum, v) => sum + watchTime(v.sections), 0)
    const persisted = stored.reduce((sum, r) => sum + r.watchTime, 0)
    console.log(
      `${sent} heartbeats in ${elapsed.toFixed(1)} s (${Math.round(sent / elapsed)}/s), ${duringOutage} during the outage, ${failed} failed; ` +
        `watch time expected ${expected} s, persisted ${persisted} s, lost ${expected - persisted} s`,
    )
    expect(sent).toBeGreaterThan(RATE * (DURATION_MS / 1000) * 0.9)
    expect(duringOutage).toBeGreaterThan(RATE * (OUTAGE_MS / 1000) * 0.8)
    expect(failed).toBe(0)
    expect(stored.length).toBe(all.length)
    expect(new Set(stored.map((r) => `${r.sessionId}/${r.videoId}`)).size).toBe(all.length)
    for (const v of all) {
      const record = stored.find((r) => r.sessionId === v.sessionId)
      expect({ sessionId: v.sessionId, sections: record.watchSections }).toEqual({ sessionId: v.sessionId, sections: v.sections })
    }
    expect(persisted).toBe(expected)
    expect(stats.getInternalStats().redisErrors).toBeGreaterThan(0)
  } finally {
    await stats.close().catch(() => {})
    await server.stop()
  }
}, 90_000)
