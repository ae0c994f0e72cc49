// Registers the plugin with a fake PeerTube, sends heartbeats, unregisters, and then does not
// exit on purpose: the process must end by itself, which shows that no engine timer or
// connection outlives unregister(). The write-behind interval is one hour, so the heartbeats
// reach Redis only through the flush of unregister(). Prints `unregistered` once done.
const path = require('node:path')
const { fakePeerTube, videoModel } = require('./fake-peertube')

const url = new URL(process.env.REDIS_URL)
const plugin = require(path.join(__dirname, '..', '..', 'plugin', 'main.js'))
const video = videoModel({ id: 5, uuid: 'dddddddd-0000-4000-8000-000000000005', isLive: true })
const peertube = fakePeerTube({
  webserverHost: process.env.WEBSERVER_HOST,
  settings: { 'redis-hostname': url.hostname, 'redis-port': url.port, 'sync-redis-interval': '1 hour' },
  videos: [video],
})

;(async () => {
  await plugin.register(peertube.options)
  for (let t = 0; t < 5; t++) {
    const { status } = await peertube.call('POST', '/heartbeat', { body: { videoId: video.uuid, currentTime: t, sessionId: 'child' } })
    if (status !== 204) throw new Error(`heartbeat answered ${status}`)
  }
  await plugin.unregister()
  process.stdout.write('unregistered\n')
})().catch((err) => {
  console.error(err)
  process.exit(1)
})
