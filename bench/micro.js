// Quick per-call costs while optimising (not the benchmark of record: see run.js).
//   node bench/micro.js
const { VideoViewerStats, VideoViewerCounters } = require('../index.js')
const { startRedis } = require('../__test__/helpers/redis-server')
const { viewers } = require('./workload')

async function main() {
  const server = await startRedis()
  const n = 20000
  const list = viewers(n)
  const stats = new VideoViewerStats({ redis: { hostname: '127.0.0.1', port: server.port }, webserverHost: 'micro', autoStart: false, saveViewerStats: async () => {} })
  let t = process.hrtime.bigint()
  for (const v of list) await stats.addLocalViewer({ video: v.video, currentTime: 0, ip: v.ip, sessionId: v.sessionId })
  console.log('new viewer  µs', (Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(2))
  for (let round = 0; round < 3; round++) {
    t = process.hrtime.bigint()
    for (const v of list) await stats.addLocalViewer({ video: v.video, currentTime: 5 + round, ip: v.ip, sessionId: v.sessionId })
    console.log('cached      µs', (Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(2))
  }
  t = process.hrtime.bigint()
  await stats.syncRedisWrites()
  console.log('sync        µs', (Number(process.hrtime.bigint() - t) / 1e3 / n).toFixed(2))
  await stats.close()
  const counters = new VideoViewerCounters({ autoStart: false, viewersFederationV2: true, loadVideo: async () => null, notifyClients: () => {}, sendView: async () => {} })
  const video = { id: 1, uuid: 'eeeeeeee-0000-4000-8000-000000000001', remote: false }
  t = process.hrtime.bigint()
  for (let i = 0; i < 100000; i++) await counters.addLocalViewer({ video, sessionId: `j${i}` })
  console.log('join        µs', (Number(process.hrtime.bigint() - t) / 1e3 / 100000).toFixed(2))
  await counters.close()
  await server.stop()
}
main()
