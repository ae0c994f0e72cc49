// A cold processing pass alone, for profiling (not the benchmark of record: see run.js). Seeds
// N expired viewers, then waits PROFILE_DELAY ms (time to attach a profiler to the pid it
// prints) before the pass:
//   PROFILE_DELAY=3000 node --perf-basic-prof bench/profile-process.js 100000 &
//   perf record -g -p <pid> -- sleep 4
const Redis = require('ioredis')
const { VideoViewerStats } = require('../index.js')
const { startRedis } = require('../__test__/helpers/redis-server')
const { seedExpiredViewers } = require('./workload')

/** CPU µs per thread name of this process (from /proc; minus `before` when given). */
function threadCpu(before = {}) {
  const fs = require('node:fs')
  const out = {}
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[0-9]+$/, '')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      out[name] = (out[name] || 0) + ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
    } catch {}
  }
  for (const k of Object.keys(before)) out[k] = (out[k] || 0) - before[k]
  return out
}

async function main() {
  const n = Number(process.argv[2] || 100000)
  const server = await startRedis()
  const redis = new Redis({ host: '127.0.0.1', port: server.port })
  await seedExpiredViewers(redis, 'redis-profile-', n)
  console.error(`pid ${process.pid}: seeded`)
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.PROFILE_DELAY || 0)))
  let persisted = 0
  const stats = new VideoViewerStats({ redis: { hostname: '127.0.0.1', port: server.port }, webserverHost: 'profile', autoStart: false, viewerStatsLifetime: 1, saveViewerStats: async () => void persisted++ })
  // The engine lists Redis' viewers once at start; a real pass comes an hour later, so the
  // measurement starts after that listing.
  while (!stats.getInternalStats().membersListed) await new Promise((resolve) => setTimeout(resolve, 10))
  const redisCpu = async () => {
    const info = await redis.info('cpu')
    const field = (name) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))[1])
    return field('used_cpu_sys') + field('used_cpu_user')
  }
  await redis.config('RESETSTAT')
  const cpuBefore = await redisCpu()
  const threadsBefore = threadCpu()
  const cpu = process.cpuUsage()
  const t = process.hrtime.bigint()
  const report = await stats.processViewerStats()
  const us = Number(process.hrtime.bigint() - t) / 1e3 / n
  const used = process.cpuUsage(cpu)
  const threads = threadCpu(threadsBefore)
  const redisUs = ((await redisCpu()) - cpuBefore) * 1e6
  const perViewer = (x) => Number((x / n).toFixed(2))
  console.log(JSON.stringify({ n, persisted, usPerViewer: perViewer(us * n), nodeCpuUsPerViewer: perViewer(used.user + used.system), redisCpuUsPerViewer: perViewer(redisUs), nodeThreadsUsPerViewer: Object.fromEntries(Object.entries(threads).map(([k, v]) => [k, perViewer(v)])), report }))
  if (process.env.PROFILE_COMMANDSTATS) console.log((await redis.info('commandstats')).trim())
  await stats.close()
  redis.disconnect()
  await server.stop()
}
main()
