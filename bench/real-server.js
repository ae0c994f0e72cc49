#!/usr/bin/env node
// The real-server table of the benchmark of record: what bench/peertube-load.js measured on a
// real PeerTube, stock and native, in one session (bench/real-server.json: the figures, the
// PeerTube version and the commands). `node bench/real-server.js` prints it; bench/run.js puts it
// into bench/results.md. The figures are measured by hand against a PeerTube built outside the
// repository (see the README), so they are data here, not re-run by `npm run bench`.
'use strict'

const fs = require('node:fs')
const path = require('node:path')

const FILE = path.join(__dirname, 'real-server.json')

const n = (x) => (x === undefined || x === null ? '' : Number(x).toLocaleString('en-US'))
const ratio = (a, b) => `${(a / b).toFixed(1)}x`

/** The highest offered rate whose p99 stayed under `ms`, every heartbeat answered 204. */
function sustained(steps, ms = 100) {
  let best = null
  for (const s of steps) if (s.p99Ms < ms && s.non204 === 0 && s.achieved >= s.offered * 0.98) best = s
  return best
}

/** Markdown lines of the real-server section. */
function realServerSection(data = JSON.parse(fs.readFileSync(FILE, 'utf8'))) {
  const { stock, native } = data.steps
  const lines = [
    `## A real PeerTube ${data.peertube} under load, stock vs native`,
    '',
    `PeerTube ${data.peertube} (\`${data.commit}\`, ${data.source}), ${data.date}. ${data.machine}. ${data.setup}.`,
    '',
    `Rate step: \`${data.commands.step}\``,
    '',
    '| offered heartbeats/s | stock: achieved, p50 / p99 ms | native: achieved, p50 / p99 ms | server CPU per heartbeat, stock / native |',
    '|---:|---|---|---|',
  ]
  for (const s of stock) {
    const m = native.find((x) => x.offered === s.offered)
    lines.push(`| ${s.offered} | ${s.achieved}, ${s.p50Ms} / ${s.p99Ms} | ${m ? `${m.achieved}, ${m.p50Ms} / ${m.p99Ms}` : ''} | ${s.cpuMsPerHeartbeat} / ${m ? m.cpuMsPerHeartbeat : ''} ms |`)
  }
  const [hs, hn] = [sustained(stock), sustained(native)]
  const [ss, sn] = [stock.at(-1), native.at(-1)]
  lines.push(
    '',
    `Highest sustained rate with p99 under 100 ms: stock ${hs ? hs.offered : 'none'}/s, native ${hn ? hn.offered : 'none'}/s (${hs && hn ? ratio(hn.offered, hs.offered) : 'n/a'}; target 2x). At saturation (${ss.offered}/s offered): stock ${ss.achieved}/s at ${ss.cpuMsPerHeartbeat} ms CPU per heartbeat, native ${sn.achieved}/s at ${sn.cpuMsPerHeartbeat} ms (${ratio(sn.achieved, ss.achieved)} the rate, ${(sn.cpuMsPerHeartbeat / ss.cpuMsPerHeartbeat).toFixed(2)}x the CPU; target at most 0.5x).`,
    '',
    `Join storm: \`${data.commands.storm}\``,
    '',
    '| 10,000 viewers joining within 1 s | stock | native |',
    '|---|---|---|',
  )
  const st = data.storm
  const row = (label, f) => lines.push(`| ${label} | ${f(st.stock)} | ${f(st.native)} |`)
  row('drained at (heartbeats/s)', (x) => n(x.drainedPerSecond))
  row('latency p50 / p99', (x) => `${(x.p50Ms / 1000).toFixed(1)} s / ${(x.p99Ms / 1000).toFixed(1)} s`)
  row('server CPU per heartbeat', (x) => `${x.cpuMsPerHeartbeat} ms`)
  row('event-loop delay, max', (x) => `${x.eventLoopDelayMaxMs} ms`)
  row('server RSS, max', (x) => `${x.rssMaxMb} MB`)
  row('answers other than 204', (x) => n(x.non204))
  if (st.nativeBeforeFederationBound) {
    const b = st.nativeBeforeFederationBound
    lines.push('', `Before \`federationConcurrency\` (${b.note}): drained ${b.drainedPerSecond}/s, p99 ${(b.p99Ms / 1000).toFixed(1)} s, ${b.cpuMsPerHeartbeat} ms CPU per heartbeat, RSS ${n(b.rssMaxMb)} MB, ${n(b.sendViewTimeouts)} sendView timeouts.`)
  }
  lines.push(
    '',
    `Stored results and the fault: \`${data.commands.stored}\`; fault run: ${data.commands.fault}. Each on a fresh live video; "stored" is what PeerTube's own \`/api/v1/videos/{id}/stats/overall\` shows after processing.`,
    '',
    '| run | heartbeats (non-204) | during the fault (non-204) | p99 | viewers stored / players | watch time stored / sent |',
    '|---|---|---|---|---|---|',
  )
  const stored = (label, x) =>
    lines.push(`| ${label} | ${n(x.heartbeats)} (${x.non204}) | ${x.fault ? `${n(x.fault.heartbeatsDuring)} (${x.fault.non204During})` : ''} | ${n(x.p99Ms)} ms | ${n(x.totalViewers)} / ${n(x.players)} | ${n(x.totalWatchTime)} / ${n(x.expectedWatchSeconds)} s |`)
  stored(`stock, ${data.stored.stock.offered}/s, no fault`, data.stored.stock)
  stored(`native, ${data.stored.native.offered}/s, no fault`, data.stored.native)
  stored(`stock, ${data.fault.stock.offered}/s, Redis killed 5 s, restarted empty`, data.fault.stock)
  stored(`native, ${data.fault.native.offered}/s, same fault`, data.fault.native)
  if (data.fault.native250) stored(`native, ${data.fault.native250.offered}/s, same fault`, data.fault.native250)
  for (const note of data.notes || []) lines.push('', note)
  return lines
}

if (require.main === module) console.log(realServerSection().join('\n'))

module.exports = { realServerSection, sustained }
