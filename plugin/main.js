// peertube-plugin-native-views: viewer analytics for PeerTube by the native engine.
// Analytics mode: PeerTube keeps counting its own views and viewers; the plugin runs its own
// VideoViewsManager under the Redis prefix `redis-plugin-native-views-{host}-`, fed by
// `action:api.video.viewed` and by player heartbeats posted to its router, and stores expired
// viewers and counted views in its own storage.
// Takeover mode (setting `takeover`): the engine also replaces PeerTube's own views subsystem in
// the running process, on PeerTube's Redis data, until the setting is turned off or the plugin
// is unregistered (lib/takeover.js).
'use strict'

const { loadNative, nativePackageRoot } = require('./lib/native')
const { SETTINGS, readSettings, takeoverWanted } = require('./lib/settings')
const { createStatsStore } = require('./lib/stats-store')
const { createEngineHolder } = require('./lib/engine')
const { registerRoutes } = require('./lib/routes')
const { viewedHookHandler } = require('./lib/view-hook')
const { createTakeoverHolder } = require('./lib/takeover-holder')

let holder = null
let takeover = null

function webserverHostOf(peertubeHelpers) {
  const url = peertubeHelpers.config && peertubeHelpers.config.getWebserverUrl && peertubeHelpers.config.getWebserverUrl()
  return url ? new URL(url).host : 'localhost'
}

async function register({ registerHook, registerSetting, settingsManager, storageManager, getRouter, peertubeHelpers }) {
  const native = loadNative()
  for (const setting of SETTINGS) registerSetting(setting)

  const store = createStatsStore({ storageManager, logger: peertubeHelpers.logger })
  const counters = { heartbeats: 0, heartbeatsRejected: 0, hookViews: 0, hookErrors: 0 }
  holder = createEngineHolder({
    native,
    settingsManager,
    peertubeHelpers,
    host: store.host,
    webserverHost: webserverHostOf(peertubeHelpers),
  })
  await holder.start()

  takeover = createTakeoverHolder({ packageRoot: nativePackageRoot(), peertubeHelpers })
  await takeover.apply(takeoverWanted(await readSettings(settingsManager)))

  const deps = { holder, store, counters, peertubeHelpers, takeover }
  registerHook({ target: 'action:api.video.viewed', handler: viewedHookHandler(deps) })
  registerRoutes(getRouter(), deps)

  if (typeof settingsManager.onSettingsChange === 'function') {
    const [current, currentTakeover] = [holder, takeover]
    settingsManager.onSettingsChange(async (settings) => {
      if (current.state === 'closed') return
      await currentTakeover.apply(takeoverWanted(settings || (await readSettings(settingsManager))))
      return current.restart()
    })
  }
}

async function unregister() {
  // PeerTube's own views first: the takeover engine writes what it holds, PeerTube goes on from it.
  if (takeover) await takeover.close()
  takeover = null
  if (!holder) return
  await holder.close()
  holder = null
}

module.exports = { register, unregister }
