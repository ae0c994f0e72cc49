// Takeover mode: the engine replaces PeerTube's own views subsystem in the running process, and
// gives it back on unregister or when the setting is turned off. Nothing of PeerTube's is written
// to disk; its singletons are patched in memory and restored as they were.
//
// - The adapter the installer would put into dist/ (the package's peertube/<line>/) is loaded
//   with its imports pointed at the running PeerTube's own modules (same URLs, so the same
//   VideoModel, CONFIG, logger... instances as PeerTube's), and runs on PeerTube's Redis data.
// - `VideoViewsManager.Instance` (PeerTube's) answers through it: the view controller,
//   ActivityPub's View processing, the API's `viewers`, the metrics gauge and the debug commands.
// - The views buffer scheduler drains through the engine, and so does the `videos-views-stats`
//   job (its first Redis call, `listVideosViewedForStats(hour)`, runs the engine's drain of that
//   hour and answers that nothing is left).
// - Handover: heartbeats wait while the side giving up writes what it holds to Redis (PeerTube's
//   pending writes, or the engine's close()), then go to the other side, which reads Redis for
//   viewers it does not hold. PeerTube's stats cache is emptied so it never writes a stale copy.
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { createRequire } = require('node:module')
const { pathToFileURL } = require('node:url')

/** The PeerTube this process runs: `node dist/server.js` in its directory (production and tests). */
function peertubeRootOf(argv1 = process.argv[1], cwd = process.cwd()) {
  const candidates = []
  if (argv1 && /[\\/]dist[\\/]server(\.js)?$/.test(argv1)) candidates.push(path.dirname(path.dirname(fs.realpathSync(argv1.endsWith('.js') ? argv1 : `${argv1}.js`))))
  candidates.push(cwd)
  for (const dir of candidates) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))
      if (pkg.name === 'peertube') return { root: fs.realpathSync(dir), version: pkg.version }
    } catch {}
  }
  return null
}

/**
 * Writes the compiled adapter of `line` into `outDir`, its imports of PeerTube's modules
 * (relative in dist/) and of PeerTube's packages (bare) turned into the running PeerTube's file
 * URLs; `peertube-native-views` is the package at `packageRoot`. Returns the manager's URL.
 */
function rebaseAdapter({ packageRoot, line, peertubeRoot, outDir }) {
  const { ADAPTERS } = require(path.join(packageRoot, 'installer', 'peertube-versions.js'))
  const files = Object.values(ADAPTERS[line] || {})
  if (!files.length) throw new Error(`no adapter ${line} in ${packageRoot}`)
  const own = new Set(files)
  const fromPeerTube = createRequire(path.join(peertubeRoot, 'package.json'))
  const url = (file) => pathToFileURL(file).href
  fs.rmSync(outDir, { recursive: true, force: true })
  for (const distPath of files) {
    const code = fs.readFileSync(path.join(packageRoot, 'peertube', line, distPath), 'utf8')
    const rebased = code.replace(/(\bfrom\s+|\bimport\s*\(\s*)(['"])([^'"]+)\2/g, (match, lead, quote, spec) => {
      if (spec.startsWith('node:')) return match
      let target
      if (spec.startsWith('.')) {
        const inDist = path.posix.join(path.posix.dirname(distPath), spec)
        if (own.has(inDist)) return match // the adapter's own files keep their layout
        target = url(path.join(peertubeRoot, 'dist', inDist))
      } else if (spec === 'peertube-native-views') {
        target = url(path.join(packageRoot, 'index.js'))
      } else {
        target = url(fromPeerTube.resolve(spec))
      }
      return `${lead}${quote}${target}${quote}`
    })
    const out = path.join(outDir, distPath)
    fs.mkdirSync(path.dirname(out), { recursive: true })
    fs.writeFileSync(out, rebased)
  }
  return url(path.join(outDir, files.find((file) => file.endsWith('views/video-views-manager.js'))))
}

/** Own properties set on `target`, put back (or removed) by `restore()`. */
function patcher() {
  const saved = []
  return {
    set(target, name, value) {
      saved.push([target, name, Object.getOwnPropertyDescriptor(target, name)])
      Object.defineProperty(target, name, { value, configurable: true, writable: true, enumerable: false })
    },
    restore() {
      for (const [target, name, descriptor] of saved.splice(0).reverse()) {
        if (descriptor) Object.defineProperty(target, name, descriptor)
        else delete target[name]
      }
    },
  }
}

/** A gate heartbeats wait on while a handover runs. */
function gate() {
  let open = null
  let promise = null
  return {
    close() {
      promise = new Promise((resolve) => (open = resolve))
    },
    open() {
      if (open) open()
      open = null
      promise = null
    },
    wait: () => promise,
  }
}

const MANAGER_METHODS = ['processLocalView', 'processRemoteView', 'getTotalViewersOf', 'getTotalViewers', 'processViewerStats', 'buildViewerExpireTime']
const WAITING_METHODS = new Set(['processLocalView', 'processRemoteView', 'processViewerStats'])

/**
 * Takes PeerTube's views over. `line`: the adapter line of the running release (installer's
 * table). Resolves with `{ release(), adapter }`; `release()` gives everything back.
 */
async function takeOver({ packageRoot, peertube, line, workDir, logger }) {
  const dist = (rel) => pathToFileURL(path.join(peertube.root, 'dist', rel)).href
  const { VideoViewsManager: PeerTubeViews } = await import(dist('core/lib/views/video-views-manager.js'))
  const { VideoViewsBufferScheduler } = await import(dist('core/lib/schedulers/video-views-buffer-scheduler.js'))
  const { Redis } = await import(dist('core/lib/redis.js'))
  const managerUrl = rebaseAdapter({ packageRoot, line, peertubeRoot: peertube.root, outDir: path.join(workDir, `takeover-${line}`) })
  const { VideoViewsManager: Adapter } = await import(managerUrl)

  const views = PeerTubeViews.Instance
  const stats = views.videoViewerStats // PeerTube's own VideoViewerStats (a private field in TS)
  if (!stats || typeof stats.syncRedisWrites !== 'function') throw new Error('PeerTube views manager not initialized')
  const adapter = Adapter.Instance
  const patches = patcher()
  const handover = gate()

  // Heartbeats wait while PeerTube writes what it holds; then they reach the engine.
  handover.close()
  for (const name of MANAGER_METHODS) {
    const method = adapter[name].bind(adapter)
    patches.set(views, name, WAITING_METHODS.has(name) ? async (...args) => (await handover.wait(), method(...args)) : method)
  }
  try {
    await stats.syncRedisWrites()
    stats.viewerCache.clear()
    stats.redisPendingWrites.clear()
    // PeerTube's own timers keep firing; while the engine holds the views they do nothing.
    patches.set(stats, 'syncRedisWrites', async () => {})
    patches.set(stats, 'processViewerStats', async () => {})
    adapter.init()
  } catch (err) {
    patches.restore()
    handover.open()
    throw err
  }
  patches.set(VideoViewsBufferScheduler.Instance, 'internalExecute', () => adapter.processViewsBuffer())
  patches.set(Redis.Instance, 'listVideosViewedForStats', async (hour) => {
    await adapter.processHourlyViewStats(hour)
    return []
  })
  handover.open()
  logger.info(`native-views: takeover on, PeerTube ${peertube.version}'s views run in the native engine`, { tags: ['native-views'] })

  let released = null
  const release = () =>
    (released ??= (async () => {
      // Heartbeats wait while the engine writes everything to Redis; then PeerTube, whose cache
      // is empty, reads each viewer back from Redis.
      handover.close()
      try {
        await adapter.close()
      } catch (err) {
        logger.warn('native-views: closing the takeover engine failed, retrying once', { tags: ['native-views'], err })
        await adapter.close().catch((e) => logger.error('native-views: the takeover engine could not write to Redis', { tags: ['native-views'], err: e }))
      }
      patches.restore()
      handover.open()
      logger.info("native-views: takeover off, PeerTube's own views subsystem is back", { tags: ['native-views'] })
    })())

  return { release, adapter }
}

module.exports = { takeOver, peertubeRootOf, rebaseAdapter }
