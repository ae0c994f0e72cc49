// Memory per cached viewer, measured alone in this process (run with --expose-gc):
//   node --expose-gc bench/memory.js <addon|peertube> <N> <redisPort>
// Each viewer gets the workload's heartbeats (one section [0, 45]); pending writes are synced so
// only the cache remains; then the RSS and V8 heap deltas are divided by N.
const Redis = require('ioredis')
const { VideoViewerStats, getNativeMemory } = require('../index.js')
const { BestJsViewerStats } = require('./baseline-peertube')
const { viewers } = require('./workload')

async function main() {
  const [engineName, nText, portText] = process.argv.slice(2)
  const n = Number(nText)
  const port = Number(portText)
  const list = viewers(n)
  const settle = async () => {
    for (let i = 0; i < 3; i++) {
      global.gc()
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  let redis
  let engine
  const host = `memory-${engineName}-${process.pid}`
  if (engineName === 'addon') {
    engine = new VideoViewerStats({ redis: { hostname: '127.0.0.1', port }, webserverHost: host, autoStart: false, saveViewerStats: async () => {} })
  } else {
    redis = new Redis({ host: '127.0.0.1', port, connectionName: 'PeerTube', connectTimeout: 20000, showFriendlyErrorStack: true, enableAutoPipelining: true })
    // PeerTube's structures; the batched sync only to get the pending writes out quickly.
    engine = new BestJsViewerStats({ redis, prefix: `redis-${host}-`, lifetimeMs: 3_600_000, saveViewerStats: async () => {} })
  }
  // Warm the code paths and the connection before the baseline measurement.
  await engine.addLocalViewer({ video: list[0].video, currentTime: 0, ip: list[0].ip, sessionId: 'warmup' })
  await engine.syncRedisWrites()
  await settle()
  const before = process.memoryUsage()
  const nativeBefore = getNativeMemory().heapInUse ?? 0
  for (const v of list) {
    await engine.addLocalViewer({ video: v.video, currentTime: 0, ip: v.ip, sessionId: v.sessionId })
    await engine.addLocalViewer({ video: v.video, currentTime: 45, ip: v.ip, sessionId: v.sessionId })
  }
  await engine.syncRedisWrites()
  await settle()
  const after = process.memoryUsage()
  const nativeAfter = getNativeMemory().heapInUse ?? 0
  // The workload itself must stay alive until here, or its collection shows as a negative delta.
  if (list.length !== n) throw new Error('workload changed')
  const heapPerViewer = (after.heapUsed - before.heapUsed) / n
  const nativePerViewer = (nativeAfter - nativeBefore) / n
  const result = {
    // Live bytes: V8 heap plus C heap in use (glibc mallinfo2), exact whatever the allocator
    // keeps around; RSS also counts freed-but-kept pages and is given for reference.
    livePerViewer: heapPerViewer + nativePerViewer,
    heapPerViewer,
    nativePerViewer,
    rssPerViewer: (after.rss - before.rss) / n,
  }
  process.stdout.write(JSON.stringify(result) + '\n')
  if (engine.close) await engine.close()
  if (redis) redis.disconnect()
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
