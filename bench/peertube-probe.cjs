// Preload for a PeerTube server under bench/peertube-load.js: `NODE_OPTIONS="--require
// /path/to/bench/peertube-probe.cjs" PNV_PROBE_FILE=/tmp/probe.jsonl node dist/server.js`.
// Every second it appends one JSON line to PNV_PROBE_FILE: the event-loop delay of that second
// (p50, p99, max, ms), the event-loop utilisation, the process CPU (user, system, µs so far)
// and RSS. The load generator reads the lines of its run window. Nothing else is touched.
'use strict'

const fs = require('node:fs')
const { monitorEventLoopDelay, performance } = require('node:perf_hooks')

const file = process.env.PNV_PROBE_FILE
if (file) {
  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  let lastElu = performance.eventLoopUtilization()
  const timer = setInterval(() => {
    const elu = performance.eventLoopUtilization(lastElu)
    lastElu = performance.eventLoopUtilization()
    const cpu = process.cpuUsage()
    const line = {
      t: Date.now(),
      pid: process.pid,
      lagP50: delay.percentile(50) / 1e6,
      lagP99: delay.percentile(99) / 1e6,
      lagMax: delay.max / 1e6,
      elu: elu.utilization,
      cpuUserUs: cpu.user,
      cpuSystemUs: cpu.system,
      rss: process.memoryUsage.rss(),
    }
    delay.reset()
    try {
      fs.appendFileSync(file, JSON.stringify(line) + '\n')
    } catch {
      // The probe never disturbs the server it measures.
    }
  }, 1000)
  timer.unref()
}
