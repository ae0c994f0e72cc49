// Owns the plugin's VideoViewsManager: builds it from the settings, rebuilds it when an admin
// changes them, and closes it. Start, restart and close are serialized. A bad setting (say an
// unknown duration unit) leaves the plugin registered with no engine and the error in `state`,
// so PeerTube keeps running and the health route tells what is wrong.
'use strict'

const { readSettings, toManagerOptions } = require('./settings')
const { toVideoRef } = require('./video')

function createEngineHolder({ native, settingsManager, peertubeHelpers, host, webserverHost }) {
  const logger = peertubeHelpers.logger
  const holder = { manager: null, state: 'starting', error: null, options: null }
  let chain = Promise.resolve()

  const loadVideo = async (id) => {
    const video = await peertubeHelpers.videos.loadByIdOrUUID(id)
    return video ? { id: video.id, uuid: video.uuid, remote: toVideoRef(video).remote } : null
  }

  async function closeCurrent() {
    const manager = holder.manager
    if (!manager) return
    try {
      await manager.close()
    } catch (err) {
      // REDIS_UNAVAILABLE: Redis could not take the last writes; one more try, then give up.
      logger.warn('native-views: closing the engine failed, retrying once', { tags: ['native-views'], err })
      await manager.close().catch(() => {})
    }
  }

  async function build() {
    const options = toManagerOptions(await readSettings(settingsManager), webserverHost)
    holder.options = options
    try {
      holder.manager = new native.VideoViewsManager({ ...options, logger, host: { ...host, loadVideo } })
      holder.state = 'running'
      holder.error = null
      logger.info(`native-views: engine running, Redis prefix redis-${options.webserverHost}-`, { tags: ['native-views'] })
    } catch (err) {
      holder.manager = null
      holder.state = 'error'
      holder.error = { code: err.code || 'INTERNAL', message: err.message }
      logger.error('native-views: cannot start the engine', { tags: ['native-views'], err })
    }
  }

  const serialize = (task) => {
    const run = chain.then(task)
    chain = run.catch(() => {})
    return run
  }

  holder.start = () => serialize(build)
  holder.restart = () =>
    serialize(async () => {
      await closeCurrent()
      await build()
    })
  // The closed manager is kept: calls that still reach it get the engine's own CLOSED error.
  holder.close = () =>
    serialize(async () => {
      await closeCurrent()
      holder.state = 'closed'
    })

  return holder
}

module.exports = { createEngineHolder }
