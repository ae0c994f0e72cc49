// A host process using the documented shutdown pattern: heartbeats stream in; on SIGTERM the
// engine is closed (flushing every accepted heartbeat to Redis) before the process exits.
// Prints `accepted <sessionId> <currentTime>` for every heartbeat that resolved.
const { VideoViewerStats } = require('../../index.js')

const url = new URL(process.env.REDIS_URL)
const stats = new VideoViewerStats({
  redis: { hostname: url.hostname, port: Number(url.port) },
  webserverHost: process.env.WEBSERVER_HOST,
  syncRedisInterval: '1 hour', // nothing reaches Redis before close(): the flush is what is tested
  saveViewerStats: async () => {},
})

process.once('SIGTERM', () => {
  stats.close().then(
    // The documented pattern, plus: let stdout (a pipe, written asynchronously) deliver every
    // `accepted` line before exiting, or the parent would see fewer than were accepted.
    () => process.stdout.write('', () => process.exit(0)),
    (err) => {
      console.error('close failed', err.code, err.message)
      process.exit(1)
    },
  )
})

;(async () => {
  const video = { id: 7, uuid: 'ffffffff-0000-4000-8000-000000000007' }
  for (let t = 0; ; t++) {
    for (let s = 0; s < 20; s++) {
      const sessionId = `shutdown-${s}`
      try {
        await stats.addLocalViewer({ video, currentTime: t, sessionId })
      } catch (err) {
        if (err.code === 'CLOSED') return // refused after close(): not accepted
        throw err
      }
      process.stdout.write(`accepted ${sessionId} ${t}\n`)
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
})()
