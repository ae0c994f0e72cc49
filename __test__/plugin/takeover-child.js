// Child process of takeover.spec.js: a fake PeerTube 6.1 server process (ES modules, as the real
// one) in which the plugin's takeover holder turns takeover on and off while one viewer keeps
// sending heartbeats through PeerTube's own VideoViewsManager.Instance. Prints one JSON line
// with what each side did. argv: fake tree root, Redis URL, Redis prefix host, work dir.
'use strict'
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const Redis = require('ioredis')
const { createTakeoverHolder } = require('../../plugin/lib/takeover-holder')

const [root, redisUrl, webserverHost, workDir] = process.argv.slice(2)
const { hostname, port } = new URL(redisUrl)
const LOCAL = { id: 41, uuid: 'cccccccc-0000-4000-8000-000000000041', url: 'http://fake/videos/watch/41', remote: false, views: 0 }

async function main() {
  const redis = new Redis({ host: hostname, port: Number(port), lazyConnect: false })
  const logs = []
  const log = (level) => (message) => logs.push({ level, message })
  const calls = { views: [], federated: [], increments: [], stored: [], sections: [], hourly: [], stockHourly: [], stockDrains: 0, stockProcessing: 0, stockViews: 0 }
  globalThis.fakePeerTube = {
    redis,
    prefix: `redis-${webserverHost}-`,
    calls,
    logger: { level: 'info', debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
    config: { redis: { hostname, port: Number(port) } },
    CONFIG: {
      STORAGE: { BIN_DIR: workDir },
      GEO_IP: { ENABLED: false, COUNTRY: { DATABASE_URL: '' }, CITY: { DATABASE_URL: '' } },
      VIEWS: { VIDEOS: { LOCAL_BUFFER_UPDATE_INTERVAL: 3_600_000, VIEW_EXPIRATION: 3_600_000, COUNT_VIEW_AFTER: 10_000, TRUST_VIEWER_SESSION_ID: true } },
    },
    WEBSERVER: { URL: `http://${webserverHost}`, HOST: webserverHost },
    durations: { [LOCAL.id]: { duration: 600, isLive: false } },
    videos: { [LOCAL.id]: LOCAL },
  }
  const dist = (rel) => pathToFileURL(path.join(root, 'dist', rel)).href
  const { VideoViewsManager } = await import(dist('core/lib/views/video-views-manager.js'))
  const { VideoViewsBufferScheduler } = await import(dist('core/lib/schedulers/video-views-buffer-scheduler.js'))
  const { Redis: PeerTubeRedis } = await import(dist('core/lib/redis.js'))
  VideoViewsManager.Instance.init()
  const views = VideoViewsManager.Instance
  const beat = (currentTime, viewEvent) =>
    views.processLocalView({ video: { id: LOCAL.id, uuid: LOCAL.uuid, url: LOCAL.url, remote: false }, currentTime, ip: '1.2.3.4', sessionId: 'alice', viewEvent })

  // 1. Stock PeerTube: [0, 10], still pending in its cache (not in Redis yet).
  await beat(0, 'seek')
  await beat(10)
  const out = { pendingBeforeTakeover: views.videoViewerStats.redisPendingWrites.size }

  // 2. Takeover on: PeerTube's pending write reaches Redis; the engine continues the viewer.
  const holder = createTakeoverHolder({
    packageRoot: path.join(__dirname, '..', '..'),
    peertubeHelpers: { logger: globalThis.fakePeerTube.logger, plugin: { getDataDirectoryPath: () => workDir } },
    root: () => ({ root, version: '6.1.0' }),
  })
  await holder.apply(true)
  out.state = holder.state
  out.error = holder.error
  out.afterTakeover = { cache: views.videoViewerStats.viewerCache.size, pending: views.videoViewerStats.redisPendingWrites.size }
  out.answers = [await beat(20), await beat(30, 'seek'), await beat(35)] // 20 extends [0, 10]; a view (watch time >= 10)
  out.viewersDuringTakeover = views.getTotalViewersOf({ id: LOCAL.id })
  out.stockViewsDuringTakeover = calls.stockViews
  await VideoViewsBufferScheduler.Instance.execute() // the engine's drain
  out.hourlyAnswer = await PeerTubeRedis.Instance.listVideosViewedForStats(new Date().getHours())
  await views.processViewerStats() // the debug command reaches the engine (nothing expired yet)
  await holder.apply(true) // idempotent

  // 3. Takeover off: the engine writes everything to Redis; PeerTube goes on from Redis.
  await holder.apply(false)
  out.stateAfterOff = holder.state
  await beat(40)
  await views.videoViewerStats.syncRedisWrites()
  out.viewersAfterOff = views.getTotalViewersOf({ id: LOCAL.id })
  out.calls = { ...calls }
  out.stockProcessingRestored = views.videoViewerStats.processViewerStats === Object.getPrototypeOf(views.videoViewerStats).processViewerStats
  out.errors = logs.filter((l) => l.level === 'error' || l.level === 'warn')
  await holder.close()
  await redis.quit()
  process.stdout.write(JSON.stringify(out) + '\n')
}

main().catch((err) => {
  process.stdout.write(JSON.stringify({ crash: String(err && err.stack) }) + '\n')
  process.exitCode = 1
})
