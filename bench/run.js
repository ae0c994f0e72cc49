#!/usr/bin/env node
// `npm run bench`: the addon against a JavaScript baseline of PeerTube's algorithm (and a
// "best JS" sync), in the same run, on the same private redis-server. Prints a table of medians
// and ratios and writes it to bench/results.md.
//   BENCH_SIZES=10000,100000 BENCH_REPS=3 npm run bench
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const Redis = require('ioredis')
const { VideoViewerStats, VideoViewerCounters } = require('../index.js')
const { PeerTubeViewerStats, BestJsViewerStats, PeerTubeViewerCounters } = require('./baseline-peertube')
const { viewers, HEARTBEATS, seedExpiredViewers } = require('./workload')
const { startRedis } = require('../__test__/helpers/redis-server')
const { realServerSection } = require('./real-server')

const SIZES = (process.env.BENCH_SIZES || '10000,100000').split(',').map(Number)
const REPS = Math.max(3, Number(process.env.BENCH_REPS || 3))
const JOINS = Number(process.env.BENCH_JOINS || 100_000)

// A full garbage collection before each timed run, so that neither side pays for the garbage
// the other left (PeerTube's 100k-join run leaves a large heap behind).
require('node:v8').setFlagsFromString('--expose-gc')
const collectGarbage = require('node:vm').runInNewContext('gc')

const now = () => process.hrtime.bigint()
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

/** redis-server CPU time (user + system) so far, µs. */
async function redisCpuUs(redis) {
  const info = await redis.info('cpu')
  const field = (name) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))[1])
  return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6
}

let uniq = 0
const host = (name) => `bench-${name}-${process.pid}-${++uniq}`

function peertubeRedis(port) {
  // PeerTube's ioredis options (lib/redis.ts) with enableAutoPipelining.
  return new Redis({ host: '127.0.0.1', port, connectionName: 'PeerTube', connectTimeout: 20000, showFriendlyErrorStack: true, enableAutoPipelining: true })
}

/** One repetition of the viewer stats pipeline for one engine; returns µs per operation. */
async function statsPipeline(kind, n, port, redis, processConcurrency) {
  const list = viewers(n)
  const webserverHost = host(kind)
  let engine
  if (kind === 'addon') {
    engine = new VideoViewerStats({ redis: { hostname: '127.0.0.1', port }, webserverHost, geoIp: null, autoStart: false, viewerStatsLifetime: '1 hour', saveViewerStats: async () => {} })
  } else {
    engine = new PeerTubeViewerStats({ redis, prefix: `redis-${webserverHost}-`, lifetimeMs: 3_600_000, saveViewerStats: async () => {} })
  }
  // 1. Burst of new viewers, one call in flight.
  let t = now()
  for (const v of list) await engine.addLocalViewer({ video: v.video, currentTime: HEARTBEATS[0], ip: v.ip, sessionId: v.sessionId })
  const burst = (ms(t) * 1000) / n
  // 2. Heartbeats of cached viewers.
  t = now()
  for (const currentTime of HEARTBEATS.slice(1)) {
    for (const v of list) await engine.addLocalViewer({ video: v.video, currentTime, ip: v.ip, sessionId: v.sessionId })
  }
  const cached = (ms(t) * 1000) / (n * (HEARTBEATS.length - 1))
  // 3. Sync of N pending viewers (and what redis-server spent on it).
  let cpu = await redisCpuUs(redis)
  t = now()
  await engine.syncRedisWrites()
  const sync = (ms(t) * 1000) / n
  const syncRedis = ((await redisCpuUs(redis)) - cpu) / n
  if (kind === 'addon') await engine.close()
  // 4. Processing of N expired viewers by a new process (cold cache), trivial host callback.
  let persisted = 0
  const save = async () => {
    persisted++
  }
  await new Promise((r) => setTimeout(r, 5))
  let cold
  if (kind === 'addon') {
    cold = new VideoViewerStats({ redis: { hostname: '127.0.0.1', port }, webserverHost, geoIp: null, autoStart: false, viewerStatsLifetime: 1, saveViewerStats: save, ...(processConcurrency ? { processConcurrency } : {}) })
  } else {
    cold = new PeerTubeViewerStats({ redis, prefix: `redis-${webserverHost}-`, lifetimeMs: 1, saveViewerStats: save })
  }
  // The addon lists Redis' viewers once at start; in PeerTube the pass comes an hour later.
  if (kind === 'addon') while (!cold.getInternalStats().membersListed) await new Promise((r) => setTimeout(r, 5))
  cpu = await redisCpuUs(redis)
  const nodeCpu = process.cpuUsage()
  t = now()
  await cold.processViewerStats()
  const processUs = (ms(t) * 1000) / n
  const nodeUsed = process.cpuUsage(nodeCpu)
  const processNode = (nodeUsed.user + nodeUsed.system) / n
  const processRedis = ((await redisCpuUs(redis)) - cpu) / n
  if (kind === 'addon') await cold.close()
  if (persisted !== n) throw new Error(`${kind}: persisted ${persisted} of ${n} viewers`)
  const left = await redis.scard(`redis-${webserverHost}-local-video-viewer-stats-keys`)
  if (left !== 0) throw new Error(`${kind}: ${left} viewers left in Redis after processing`)
  return { burst, cached, sync, syncRedis, process: processUs, processRedis, processNode }
}

/**
 * The least a processing pass can ask of Redis with PeerTube's data: list the set, read every
 * value, remove every member and value (`SMEMBERS`, then per 1,024 `MGET` and
 * `MULTI { SREM, DEL }`), from a raw client; redis-server CPU per viewer.
 */
async function processFloor(n, redis) {
  const prefix = `redis-${host('floor')}-`
  await seedExpiredViewers(redis, prefix, n)
  const set = `${prefix}local-video-viewer-stats-keys`
  const cpu = await redisCpuUs(redis)
  const members = await redis.smembers(set)
  for (let i = 0; i < members.length; i += 1024) {
    const chunk = members.slice(i, i + 1024)
    await redis.mget(chunk.map((m) => prefix + m))
    await redis.multi().srem(set, ...chunk).del(...chunk.map((m) => prefix + m)).exec()
  }
  const used = ((await redisCpuUs(redis)) - cpu) / n
  if ((await redis.scard(set)) !== 0) throw new Error('floor: viewers left')
  return used
}

/**
 * What calibrates this machine's figures: redis-server's own CPU per pipelined `SET` (a
 * 150-byte value, 100,000 random keys, pipelines of 1,000) and the rate one core would give.
 */
async function calibrateRedis(redis) {
  const value = 'x'.repeat(150)
  const total = 200_000
  const cpu = await redisCpuUs(redis)
  for (let i = 0; i < total; i += 1000) {
    const pipe = redis.pipeline()
    for (let j = i; j < i + 1000; j++) pipe.set(`calibration-${(j * 7919) % 100_000}`, value)
    await pipe.exec()
  }
  const perSet = ((await redisCpuUs(redis)) - cpu) / total
  await redis.flushall()
  return { perSet, perSecond: 1e6 / perSet }
}

/** The best-JS sync alone, on the same N pending viewers. */
async function bestJsSync(n, redis) {
  const list = viewers(n)
  const webserverHost = host('bestjs')
  const engine = new BestJsViewerStats({ redis, prefix: `redis-${webserverHost}-`, lifetimeMs: 3_600_000, saveViewerStats: async () => {} })
  const nowMs = Date.now()
  for (const v of list) {
    const stats = { firstUpdated: nowMs, lastUpdated: nowMs, watchSections: [{ start: 0, end: 45 }], watchTime: 45, country: null, subdivisionName: null, videoId: v.video.id }
    engine.setLocalVideoViewer(v.sessionId, v.video.id, stats)
  }
  const cpu = await redisCpuUs(redis)
  const t = now()
  await engine.syncRedisWrites()
  const us = (ms(t) * 1000) / n
  const redisUs = ((await redisCpuUs(redis)) - cpu) / n
  const stored = await redis.scard(`redis-${webserverHost}-local-video-viewer-stats-keys`)
  if (stored !== n) throw new Error(`best JS stored ${stored} of ${n}`)
  return { sync: us, syncRedis: redisUs }
}

/** N joins on one video through the counters; ms in total. */
async function joins(kind, n) {
  const video = { id: 1, uuid: 'eeeeeeee-0000-4000-8000-000000000001', remote: false }
  let notifications = 0
  const options = { lifetimeMs: 120_000, federationV2: true, notifyClients: () => notifications++, sendView: async () => {} }
  const engine =
    kind === 'addon'
      ? new VideoViewerCounters({ viewerCounterLifetime: '2 minutes', viewersFederationV2: true, autoStart: false, loadVideo: async () => null, notifyClients: options.notifyClients, sendView: options.sendView })
      : new PeerTubeViewerCounters(options)
  const t = now()
  for (let i = 0; i < n; i++) await engine.addLocalViewer({ video, sessionId: `j${i}` })
  const total = ms(t)
  if (engine.getTotalViewersOf(video) !== n) throw new Error(`${kind}: ${engine.getTotalViewersOf(video)} viewers`)
  if (kind === 'addon') await engine.close()
  return total
}

function memory(kind, n, port) {
  const out = execFileSync(process.execPath, ['--expose-gc', path.join(__dirname, 'memory.js'), kind, String(n), String(port)], { encoding: 'utf8' })
  return JSON.parse(out.trim().split('\n').pop())
}

const fmt = (x, digits = 1) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(digits))

async function main() {
  const redisVersion = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2]
  const server = await startRedis()
  const redis = peertubeRedis(server.port)
  const rows = []
  const started = Date.now()
  const calibration = []
  try {
    for (let rep = 0; rep < REPS; rep++) calibration.push(await calibrateRedis(redis))
    for (const n of SIZES) {
      const samples = { addon: [], peertube: [], best: [], wide: [], floor: [] }
      for (let rep = 0; rep < REPS; rep++) {
        // Alternate the order so neither side always runs on a warmer machine.
        const order = rep % 2 ? ['peertube', 'addon'] : ['addon', 'peertube']
        for (const kind of order) {
          collectGarbage()
          samples[kind].push(await statsPipeline(kind, n, server.port, redis))
          await redis.flushall()
        }
        collectGarbage()
        samples.best.push(await bestJsSync(n, redis))
        await redis.flushall()
        // The same pipeline with 128 saveViewerStats calls in flight (default 8).
        collectGarbage()
        samples.wide.push(await statsPipeline('addon', n, server.port, redis, 128))
        await redis.flushall()
        samples.floor.push(await processFloor(n, redis))
        await redis.flushall()
        process.stderr.write(`N=${n} rep ${rep + 1}/${REPS} done (${Math.round((Date.now() - started) / 1000)} s)\n`)
      }
      const m = (kind, field) => median(samples[kind].map((s) => s[field]))
      rows.push({ figure: 'heartbeat, cached viewer (µs/call)', n, peertube: m('peertube', 'cached'), addon: m('addon', 'cached'), target: 1.5 })
      rows.push({ figure: 'heartbeat, burst of new viewers, 1 in flight (µs/call)', n, peertube: m('peertube', 'burst'), addon: m('addon', 'burst'), target: 10 })
      const best = (field) => median(samples.best.map((s) => s[field]))
      rows.push({ figure: 'sync of N pending viewers (µs/viewer)', n, peertube: m('peertube', 'sync'), best: best('sync'), addon: m('addon', 'sync'), target: 50, targetBest: 3 })
      rows.push({ figure: 'same, redis-server CPU during the sync (µs/viewer)', n, peertube: m('peertube', 'syncRedis'), best: best('syncRedis'), addon: m('addon', 'syncRedis'), note: 'cpu' })
      rows.push({ figure: 'sync ceiling: best JS time / redis-server CPU of the addon\'s sync (x)', n, best: best('sync'), addon: m('addon', 'syncRedis'), note: 'ceiling' })
      rows.push({ figure: 'process N expired viewers, cold cache (µs/viewer)', n, peertube: m('peertube', 'process'), addon: m('addon', 'process'), target: 40 })
      rows.push({ figure: 'same, processConcurrency 128 (default 8)', n, peertube: m('peertube', 'process'), addon: median(samples.wide.map((s) => s.process)), target: 40 })
      rows.push({ figure: 'process, redis-server CPU during the pass (default concurrency) (µs/viewer)', n, peertube: m('peertube', 'processRedis'), best: median(samples.floor), addon: m('addon', 'processRedis'), absolute: n >= 100_000 ? 5 : null, unit: 'µs' })
      rows.push({ figure: 'process, node CPU during the pass, every thread (µs/viewer)', n, peertube: m('peertube', 'processNode'), addon: m('addon', 'processNode'), absolute: n >= 100_000 ? 3 : null, unit: 'µs' })
    }
    const memN = Math.max(...SIZES)
    const mem = { addon: [], peertube: [] }
    for (let rep = 0; rep < REPS; rep++) {
      for (const kind of ['addon', 'peertube']) mem[kind].push(memory(kind, memN, server.port))
      await redis.flushall()
    }
    const mm = (kind, field) => median(mem[kind].map((s) => s[field]))
    rows.push({ figure: 'memory per cached viewer, live bytes: V8 heap + C heap (bytes)', n: memN, peertube: mm('peertube', 'livePerViewer'), addon: mm('addon', 'livePerViewer'), target: null, absolute: 150 })
    // The addon keeps nothing in the V8 heap: its delta is noise around 0, and a ratio means nothing.
    rows.push({ figure: 'memory per cached viewer, V8 heap delta (bytes)', n: memN, peertube: mm('peertube', 'heapPerViewer'), addon: mm('addon', 'heapPerViewer'), target: null, noRatio: true })
    rows.push({ figure: 'memory per cached viewer, RSS delta (bytes)', n: memN, peertube: mm('peertube', 'rssPerViewer'), addon: mm('addon', 'rssPerViewer'), target: null })
    const joinSamples = { addon: [], peertube: [] }
    for (let rep = 0; rep < REPS; rep++) {
      for (const kind of rep % 2 ? ['peertube', 'addon'] : ['addon', 'peertube']) {
        collectGarbage()
        joinSamples[kind].push(await joins(kind, JOINS))
      }
      process.stderr.write(`joins rep ${rep + 1}/${REPS}: addon ${joinSamples.addon.map((x) => x.toFixed(0)).join(', ')} ms; PeerTube JS ${joinSamples.peertube.map((x) => x.toFixed(0)).join(', ')} ms\n`)
    }
    rows.push({ figure: `${JOINS} viewers joining one video, counters (ms total)`, n: JOINS, peertube: median(joinSamples.peertube), addon: median(joinSamples.addon), target: 100 })
  } finally {
    redis.disconnect()
    await server.stop()
  }

  const header = '| figure | N | PeerTube JS | best JS | addon | PeerTube / addon | best JS / addon | target | met |'
  const lines = [header, '|---|---:|---:|---:|---:|---:|---:|---|---|']
  for (const r of rows) {
    if (r.note === 'ceiling') {
      // No client sending these commands can finish before redis-server has executed them.
      lines.push(`| ${r.figure} | ${r.n} |  | ${fmt(r.best)} | ${fmt(r.addon, 2)} |  | ${(r.best / r.addon).toFixed(1)}x | highest best JS / addon possible |  |`)
      continue
    }
    const ratio = r.peertube / r.addon
    const ratioBest = r.best ? r.best / r.addon : null
    let target = ''
    let met = ''
    const ratioText = r.addon > 0 && r.peertube > 0 && !r.noRatio ? `${ratio.toFixed(1)}x` : 'n/a'
    if (r.absolute) {
      target = `addon <= ${r.absolute} ${r.unit || 'B'}`
      met = r.addon <= r.absolute ? 'yes' : 'NO'
    } else if (r.target) {
      target = `>= ${r.target}x` + (r.targetBest ? `, >= ${r.targetBest}x best JS` : '')
      met = ratio >= r.target && (!r.targetBest || ratioBest >= r.targetBest) ? 'yes' : 'NO'
    }
    lines.push(`| ${r.figure} | ${r.n} | ${fmt(r.peertube)} | ${r.best ? fmt(r.best) : ''} | ${fmt(r.addon, 2)} | ${ratioText} | ${ratioBest ? ratioBest.toFixed(1) + 'x' : ''} | ${target} | ${met} |`)
  }
  const table = lines.join('\n')
  const calib = { perSet: median(calibration.map((c) => c.perSet)), perSecond: median(calibration.map((c) => c.perSecond)) }
  const seconds = Math.round((Date.now() - started) / 1000)
  const doc = [
    '# Benchmark results',
    '',
    `Command: \`npm run bench\` (sizes ${SIZES.join(', ')}, ${REPS} repetitions, medians). Run on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores, Node ${process.version}, redis-server ${redisVersion} (private, loopback), ${seconds} s.`,
    '',
    `Calibration of this machine: redis-server spends ${calib.perSet.toFixed(2)} µs of CPU per pipelined \`SET\` (150-byte values, pipelines of 1,000; ${calibration.map((c) => c.perSet.toFixed(2)).join(', ')} µs in the ${REPS} runs), i.e. ${Math.round(calib.perSecond).toLocaleString('en-US')} SETs/s on one core. Absolute figures scale with it from one machine to another; the PeerTube JS column gives the baseline's own time in the same run.`,
    '',
    'Workload: N viewers with 32-hex session ids over 100 videos, 10 heartbeats each (currentTime 0, 5, ... 45), GeoIP off.',
    '"PeerTube JS" reproduces PeerTube 6.1\'s algorithm on ioredis 5 with PeerTube\'s options (enableAutoPipelining); "best JS" syncs with one SADD + one MSET per 1000 viewers.',
    'Times are per call / per viewer (lower is better) except the joins (total); ratios are baseline / addon (higher is better). Memory is measured in a separate process per engine.',
    '"redis-server CPU" rows: user + system CPU of the server (INFO cpu) during that step, per viewer. A client cannot finish a sync before the server has executed its commands, so best JS time / the addon\'s redis-server CPU is the highest best JS / addon ratio the sync can reach. In the processing row the best JS column is the floor: a raw client sending only `SMEMBERS`, then per 1,024 viewers `MGET` and `MULTI { SREM, DEL }` (the least a pass can ask of Redis with PeerTube\'s data). "node CPU" is `process.cpuUsage()` of the benchmark process during the pass (every thread: the addon\'s native worker, the JS dispatcher and the trivial host callback).',
    '',
    table,
    '',
    ...realServerSection(),
    '',
  ].join('\n')
  fs.writeFileSync(path.join(__dirname, 'results.md'), doc)
  console.log(`\nCalibration: redis-server ${calib.perSet.toFixed(2)} µs CPU per pipelined SET (${Math.round(calib.perSecond)} SETs/s on one core)\n\n` + table + '\n\nWritten to bench/results.md (with the real-server table of bench/real-server.json)')
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
