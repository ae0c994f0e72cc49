// One engine process of the exactly-once test: waits for `go` on stdin, then processes the
// shared Redis until no viewer is left, with a host that fails 20 % of the time. Prints one JSON
// line: every record its host stored, and how many calls failed.
const { VideoViewerStats } = require('../../index.js')
const { prng } = require('../helpers/prng')

const url = new URL(process.env.REDIS_URL)
const random = prng(Number(process.env.SEED))
const stored = []
let failures = 0

const stats = new VideoViewerStats({
  redis: { hostname: url.hostname, port: Number(url.port) },
  webserverHost: process.env.WEBSERVER_HOST,
  autoStart: false,
  saveViewerStats: (viewer) => {
    const roll = random()
    if (roll < 0.1) {
      failures++
      throw new Error('host failed synchronously')
    }
    return new Promise((resolve, reject) =>
      setTimeout(() => {
        if (roll < 0.2) {
          failures++
          reject(new Error('host rejected'))
        } else {
          stored.push(viewer)
          resolve()
        }
      }, Math.floor(random() * 3)),
    )
  },
})

process.stdin.once('data', async () => {
  let passes = 0
  let skipped = 0
  for (; passes < 300; passes++) {
    const report = await stats.processViewerStats()
    // A pass skipped while the other process holds the lease says nothing about what is left.
    if (report.skipped) skipped++
    else if (report.scanned === 0) break
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  await stats.close()
  process.stdout.write(JSON.stringify({ stored, failures, passes, skipped }) + '\n')
})
