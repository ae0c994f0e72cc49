// peertube-plugin-native-views: viewer analytics for PeerTube by the native engine.
// Analytics mode: PeerTube keeps counting its own views and viewers; the plugin runs its own
// VideoViewsManager under the Redis prefix `redis-plugin-native-views-{host}-`, fed by
// `action:api.video.viewed` and by player heartbeats posted to its router, and stores expired
// viewers and counted views in its own storage.
'use strict'

const { loadNative } = require('./lib/native')
const { SETTINGS } = require('./lib/settings')
const { createStatsStore } = require('./lib/stats-store')
const { createEngineHolder } = require('./lib/engine')
const { registerRoutes } = require('./lib/routes')
const { viewedHookHandler } = require('./lib/view-hook')

let holder = null

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

  const deps = { holder, store, counters, peertubeHelpers }
  registerHook({ target: 'action:api.video.viewed', handler: viewedHookHandler(deps) })
  registerRoutes(getRouter(), deps)

  if (typeof settingsManager.onSettingsChange === 'function') {
    const current = holder
    settingsManager.onSettingsChange(() => {
      if (current.state !== 'closed') return current.restart()
    })
  }
}

async function unregister() {
  if (!holder) return
  await holder.close()
  holder = null
}

module.exports = { register, unregister }
