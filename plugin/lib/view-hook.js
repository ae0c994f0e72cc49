// Handler of PeerTube's `action:api.video.viewed` ({ video, ip, req, res }), fired when
// PeerTube counted a view of a local or remote video. The request's body is the player's
// heartbeat (currentTime, sessionId, viewEvent): it becomes one heartbeat for the plugin's
// engine. The handler never rejects: a failure is logged and counted.
'use strict'

const { toVideoRef, parseCurrentTime, optional } = require('./video')

function viewedHookHandler({ holder, peertubeHelpers, counters }) {
  const logger = peertubeHelpers.logger
  return async ({ video, ip, req } = {}) => {
    try {
      const manager = holder.manager
      if (!manager || !video) return
      const body = (req && req.body) || {}
      await manager.processLocalView({
        video: toVideoRef(video),
        currentTime: parseCurrentTime(body.currentTime ?? 0),
        ip: ip ?? (req && req.ip),
        sessionId: optional(body.sessionId),
        viewEvent: optional(body.viewEvent),
      })
      counters.hookViews += 1
    } catch (err) {
      counters.hookErrors += 1
      const log = err && err.code === 'INVALID_ARGUMENT' ? logger.debug : logger.warn
      log.call(logger, 'native-views: cannot record a viewed video', { tags: ['native-views'], code: err && err.code, err })
    }
  }
}

module.exports = { viewedHookHandler }
