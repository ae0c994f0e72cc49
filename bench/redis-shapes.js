#!/usr/bin/env node
// What redis-server itself spends (INFO cpu, user + system, µs per viewer) to store N viewers in
// PeerTube's format with each command shape, whatever the client: the floor under any sync.
// Diagnostic, not the benchmark of record (see run.js).
//   node bench/redis-shapes.js [N] [viewers per transaction]
const Redis = require('ioredis')
const { startRedis } = require('../__test__/helpers/redis-server')
const { viewers } = require('./workload')

const N = Number(process.argv[2] || 100000)
const BATCH = Number(process.argv[3] || 1000)
const IN_FLIGHT = 4
const REPS = 3

async function main() {
  const server = await startRedis()
  const redis = new Redis({ host: '127.0.0.1', port: server.port })
  const prefix = `redis-bench-shapes-${process.pid}-`
  const set = `${prefix}local-video-viewer-stats-keys`
  const now = Date.now()
  const json = (v) =>
    JSON.stringify({ firstUpdated: now, lastUpdated: now, watchSections: [{ start: 0, end: 45 }], watchTime: 45, country: null, subdivisionName: null, videoId: v.video.id })
  const list = viewers(N)
  const batches = []
  for (let i = 0; i < N; i += BATCH) {
    const chunk = list.slice(i, i + BATCH)
    batches.push({
      members: chunk.map((v) => `${v.sessionId}-${v.video.id}`),
      pairs: chunk.flatMap((v) => [`${prefix}local-video-viewer-stats-${v.sessionId}-${v.video.id}`, json(v)]),
    })
  }
  const cpuUs = async () => {
    const info = await redis.info('cpu')
    const field = (name) => Number(info.match(new RegExp(`${name}:([0-9.]+)`))[1])
    return (field('used_cpu_sys') + field('used_cpu_user')) * 1e6
  }
  /** Sends `add(pipeline, batch)` for every batch, IN_FLIGHT batches per pipeline. */
  const send = async (add) => {
    for (let i = 0; i < batches.length; i += IN_FLIGHT) {
      const pipeline = redis.pipeline()
      for (const batch of batches.slice(i, i + IN_FLIGHT)) add(pipeline, batch)
      await pipeline.exec()
    }
  }
  const shapes = {
    'MULTI { SADD, MSETNX } (the addon)': () =>
      send((p, b) => {
        p.multi()
        p.sadd(set, ...b.members)
        p.msetnx(...b.pairs)
        p.exec()
      }),
    'MULTI { SADD, MSET }': () =>
      send((p, b) => {
        p.multi()
        p.sadd(set, ...b.members)
        p.mset(...b.pairs)
        p.exec()
      }),
    'SADD, MSET (best JS)': () =>
      send((p, b) => {
        p.sadd(set, ...b.members)
        p.mset(...b.pairs)
      }),
    'every SADD, then every MSET (not atomic)': async () => {
      await send((p, b) => p.sadd(set, ...b.members))
      await send((p, b) => p.mset(...b.pairs))
    },
    'SADD alone': () => send((p, b) => p.sadd(set, ...b.members)),
    'MSET alone': () => send((p, b) => p.mset(...b.pairs)),
    'MSETNX alone': () => send((p, b) => p.msetnx(...b.pairs)),
  }
  const samples = {}
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, run] of Object.entries(shapes)) {
      await redis.flushall()
      const before = await cpuUs()
      await run()
      ;(samples[name] ||= []).push(((await cpuUs()) - before) / N)
    }
  }
  redis.disconnect()
  await server.stop()
  console.log(`redis-server CPU per viewer, N = ${N}, ${BATCH} viewers per transaction, ${IN_FLIGHT} in flight, ${REPS} repetitions (µs):`)
  for (const [name, xs] of Object.entries(samples)) {
    const sorted = [...xs].sort((a, b) => a - b)
    console.log(`  ${name.padEnd(44)} median ${sorted[1].toFixed(2)}  (${xs.map((x) => x.toFixed(2)).join(', ')})`)
  }
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
