// One write-behind sync of N new viewers, for profiling (not the benchmark of record: see
// run.js); prints wall, node and redis-server CPU per viewer. PROFILE_DELAY as profile-process.js.
const Redis = require('ioredis')
const { VideoViewerStats } = require('../index.js')
const { startRedis } = require('../__test__/helpers/redis-server')
const { viewers, HEARTBEATS } = require('./workload')

async function main() {
  const n = Number(process.argv[2] || 100000)
  const server = await startRedis()
  const redis = new Redis({ host: '127.0.0.1', port: server.port })
  const stats = new VideoViewerStats({ redis: { hostname: '127.0.0.1', port: server.port }, webserverHost: 'profile', autoStart: false, saveViewerStats: async () => {} })
  const list = viewers(n)
  for (const currentTime of HEARTBEATS) {
    for (const v of list) await stats.addLocalViewer({ video: v.video, currentTime, ip: v.ip, sessionId: v.sessionId })
  }
  console.error(`pid ${process.pid}: seeded`)
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.PROFILE_DELAY || 0)))
  const redisCpu = async () => {
    const info = await redis.info('cpu')
    const field = (name) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))[1])
    return field('used_cpu_sys') + field('used_cpu_user')
  }
  const cpuBefore = await redisCpu()
  const cpu = process.cpuUsage()
  const t = process.hrtime.bigint()
  const report = await stats.syncRedisWrites()
  const us = Number(process.hrtime.bigint() - t) / 1e3
  const used = process.cpuUsage(cpu)
  const redisUs = ((await redisCpu()) - cpuBefore) * 1e6
  const perViewer = (x) => Number((x / n).toFixed(2))
  console.log(JSON.stringify({ n, usPerViewer: perViewer(us), nodeCpuUsPerViewer: perViewer(used.user + used.system), redisCpuUsPerViewer: perViewer(redisUs), report }))
  await stats.close()
  redis.disconnect()
  await server.stop()
}
main()
