#!/usr/bin/env node
// Load generator for a real PeerTube: N simulated players posting `POST /api/v1/videos/{id}/views`
// on an open-loop schedule (bench/load-players.js), so a slow server shows as latency, not as a
// lower offered rate (no coordinated omission: latency counts from each heartbeat's due time).
//
//   node bench/peertube-load.js --url http://127.0.0.1:9001 --video <uuid> --viewers 10000 \
//     --join storm --duration 60 [--rate 2000] [--server-pid PID] [--probe /tmp/probe.jsonl] \
//     [--user root --password test] [--settle 15] [--json out.json] \
//     [--fault-at 20 --fault-cmd 'kill -9 <redis pid>; sleep 5; redis-server ... &']
//
// Scenarios: one `--video` (a popular live), or `--videos uuid,uuid,...` (a catalogue; players
// spread over them). `--rate R` compresses the players' 5 s interval to reach R heartbeats/s
// with the same players. It prints achieved heartbeats/s, latency p50/p99/p999 (ms), status
// counts, and, with `--server-pid`, the server's CPU (total and per heartbeat) and RSS; with
// `--probe` (the server started with bench/peertube-probe.cjs), its event-loop delay. With
// `--user`, after `--settle` seconds, the videos' views, viewers and overall stats. `--fault-cmd`
// runs a shell command `--fault-at` seconds into the run (a fault: Redis killed and restarted,
// say); the report then counts the statuses of the heartbeats due from the fault's start until
// 5 s after the command ended apart.
'use strict'

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const http = require('node:http')
const { expectedWatchSeconds, schedule } = require('./load-players')

function parseArgs(argv) {
  const args = {}
  for (let i = 0; i < argv.length; i++) {
    const key = argv[i].replace(/^--/, '')
    const value = argv[i + 1] && !argv[i + 1].startsWith('--') ? argv[++i] : 'true'
    args[key] = value
  }
  return args
}

const percentile = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN)

/** CPU ticks (user + system) and RSS bytes of a process, from /proc. */
function procSample(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    const ticks = Number(fields[11]) + Number(fields[12])
    const rss = Number(fields[21]) * 4096
    return { t: process.hrtime.bigint(), cpuMs: (ticks * 1000) / 100, rss }
  } catch {
    return null
  }
}

function request(agent, base, path, { method = 'GET', body, token } = {}) {
  return new Promise((resolve) => {
    const data = body === undefined ? null : typeof body === 'string' ? body : JSON.stringify(body)
    const headers = {}
    if (data !== null) {
      headers['content-type'] = typeof body === 'string' ? 'application/x-www-form-urlencoded' : 'application/json'
      headers['content-length'] = Buffer.byteLength(data)
    }
    if (token) headers.authorization = `Bearer ${token}`
    const req = http.request(new URL(path, base), { method, agent, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }))
      res.on('error', (err) => resolve({ status: 0, error: err.code || err.message }))
    })
    req.on('error', (err) => resolve({ status: 0, error: err.code || err.message }))
    req.end(data ?? undefined)
  })
}

async function login(agent, base, user, password) {
  const client = JSON.parse((await request(agent, base, '/api/v1/oauth-clients/local')).text)
  const form = new URLSearchParams({ client_id: client.client_id, client_secret: client.client_secret, grant_type: 'password', response_type: 'code', username: user, password })
  const res = await request(agent, base, '/api/v1/users/token', { method: 'POST', body: form.toString() })
  return JSON.parse(res.text).access_token
}

/** What PeerTube stores for each video: views, viewers, and (owner's token) the overall stats. */
async function storedResults(agent, base, videos, token) {
  const out = {}
  for (const uuid of videos) {
    const video = JSON.parse((await request(agent, base, `/api/v1/videos/${uuid}`)).text)
    const entry = { views: video.views, viewers: video.viewers }
    if (token) {
      const overall = await request(agent, base, `/api/v1/videos/${uuid}/stats/overall`, { token })
      if (overall.status === 200) {
        const stats = JSON.parse(overall.text)
        Object.assign(entry, { totalViewers: stats.totalViewers, totalWatchTime: stats.totalWatchTime, averageWatchTime: stats.averageWatchTime })
      }
    }
    out[uuid] = entry
  }
  return out
}

function readProbe(file, from, to) {
  if (!file || !fs.existsSync(file)) return []
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((l) => l.t >= from && l.t <= to)
}

async function main() {
  const args = parseArgs(process.argv.slice(2))
  const base = args.url || 'http://127.0.0.1:9001'
  const videos = (args.videos || args.video || '').split(',').filter(Boolean)
  if (!videos.length) throw new Error('give --video <uuid> (a popular live) or --videos uuid,uuid,... (a catalogue)')
  const viewers = Number(args.viewers || 10_000)
  const durationMs = Number(args.duration || 60) * 1000
  const rate = args.rate ? Number(args.rate) : null
  const intervalMs = rate ? (viewers / rate) * 1000 : 5000
  const beats = schedule({
    viewers,
    videos,
    join: args.join || 'storm',
    stormMs: Number(args['storm-ms'] || 1000),
    rampMs: Number(args['ramp'] || 60) * 1000,
    intervalMs,
    seekRate: Number(args['seek-rate'] ?? 0.02),
    watchMs: args.watch ? args.watch.split('-').map((s) => Number(s) * 1000) : [Infinity, Infinity],
    durationMs,
    maxTime: args['max-time'] ? Number(args['max-time']) : null,
    seed: Number(args.seed || 1),
  })
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number(args.sockets || 256) })
  const token = args.user ? await login(agent, base, args.user, args.password || 'test') : null
  const ids = {}
  for (const uuid of videos) ids[uuid] = JSON.parse((await request(agent, base, `/api/v1/videos/${uuid}`)).text).id ?? uuid

  const latencies = new Float64Array(beats.length)
  const statuses = {}
  const fault = args['fault-cmd'] ? { atMs: Number(args['fault-at'] || 10) * 1000, endMs: null, exitCode: null, statusesDuring: {} } : null
  const answers = new Array(beats.length)
  let done = 0
  let next = 0
  const pid = args['server-pid'] ? Number(args['server-pid']) : null
  const startSample = pid && procSample(pid)
  const samples = []
  const sampler = pid && setInterval(() => samples.push(procSample(pid)), 1000)
  const startWall = Date.now()
  const start = performance.now()
  const faultTimer =
    fault &&
    setTimeout(() => {
      const child = spawn('sh', ['-c', args['fault-cmd']], { stdio: 'inherit' })
      child.on('exit', (code) => {
        fault.endMs = performance.now() - start
        fault.exitCode = code
      })
    }, fault.atMs)
  await new Promise((resolve) => {
    const pump = () => {
      const now = performance.now() - start
      while (next < beats.length && beats[next].at <= now) {
        const beat = beats[next++]
        const due = beat.at
        const index = next - 1
        request(agent, base, `/api/v1/videos/${beat.video}/views`, { method: 'POST', body: beat.body }).then((res) => {
          latencies[done] = performance.now() - start - due
          answers[index] = res.status || res.error
          statuses[res.status || res.error] = (statuses[res.status || res.error] ?? 0) + 1
          if (++done === beats.length) resolve()
        })
      }
      if (next < beats.length) setTimeout(pump, Math.max(0, Math.min(5, beats[next].at - (performance.now() - start))))
    }
    pump()
  })
  const elapsedMs = performance.now() - start
  if (sampler) clearInterval(sampler)
  if (faultTimer) clearTimeout(faultTimer)
  if (fault) {
    const until = (fault.endMs ?? elapsedMs) + 5000
    for (let i = 0; i < beats.length; i++) {
      if (beats[i].at >= fault.atMs && beats[i].at <= until) fault.statusesDuring[answers[i]] = (fault.statusesDuring[answers[i]] ?? 0) + 1
    }
  }
  const endSample = pid && procSample(pid)
  const sorted = Array.from(latencies).sort((a, b) => a - b)
  const serverCpuMs = startSample && endSample ? endSample.cpuMs - startSample.cpuMs : null
  const probe = readProbe(args.probe, startWall, Date.now())
  const report = {
    scenario: videos.length === 1 ? 'popular live' : `catalogue of ${videos.length} videos`,
    viewers,
    join: args.join || 'storm',
    offeredPerSecond: rate ?? viewers / 5,
    heartbeats: beats.length,
    achievedPerSecond: beats.length / (elapsedMs / 1000),
    latencyMs: { p50: percentile(sorted, 50), p99: percentile(sorted, 99), p999: percentile(sorted, 99.9), max: sorted.at(-1) },
    statuses,
    server: pid && {
      cpuMs: serverCpuMs,
      cpuUsPerHeartbeat: serverCpuMs === null ? null : (serverCpuMs * 1000) / beats.length,
      cpuPercent: serverCpuMs === null ? null : (serverCpuMs / elapsedMs) * 100,
      rssMaxMb: Math.max(...samples.filter(Boolean).map((s) => s.rss), endSample?.rss ?? 0) / 1e6,
    },
    eventLoop: probe.length ? { lagP99MaxMs: Math.max(...probe.map((p) => p.lagP99)), lagMaxMs: Math.max(...probe.map((p) => p.lagMax)), eluMax: Math.max(...probe.map((p) => p.elu)) } : null,
    expectedWatchSeconds: expectedWatchSeconds(beats),
    fault,
  }
  if (args.settle) {
    await new Promise((r) => setTimeout(r, Number(args.settle) * 1000))
    report.stored = await storedResults(agent, base, videos, token)
  }
  report.videoIds = ids
  agent.destroy()
  console.log(JSON.stringify(report, null, 2))
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, null, 2) + '\n')
}

main().catch((err) => {
  console.error(err.stack || String(err))
  process.exit(1)
})
