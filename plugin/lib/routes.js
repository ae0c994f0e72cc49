// The plugin's HTTP routes, under /plugins/native-views/router/:
//   POST /heartbeat  { videoId (id, uuid or short uuid), currentTime, sessionId?, viewEvent? }
//                    -> 204, or { code, error } with 400/404/503/500
//   GET  /health     -> 200 { status: 'running', ..., takeover: { state } } or 503 { status: 'closed' | 'error' | ... }
// Handlers never throw or reject: Express 4 would not catch an async failure.
'use strict'

const { toVideoRef, parseCurrentTime, optional } = require('./video')

const STATUS_OF_CODE = { INVALID_ARGUMENT: 400, CLOSED: 503, REDIS_UNAVAILABLE: 503 }

function sendError(res, status, code, message) {
  res.status(status).json({ code, error: message })
}

function heartbeatHandler({ holder, peertubeHelpers, counters }) {
  const logger = peertubeHelpers.logger
  return async (req, res) => {
    try {
      const body = req.body
      const videoId = body && typeof body === 'object' ? body.videoId ?? body.uuid : undefined
      if ((typeof videoId !== 'string' || videoId === '') && !Number.isInteger(videoId)) {
        counters.heartbeatsRejected += 1
        return sendError(res, 400, 'INVALID_ARGUMENT', 'videoId: expected a video id, uuid or short uuid')
      }
      const manager = holder.manager
      if (!manager) {
        counters.heartbeatsRejected += 1
        return sendError(res, 503, holder.error ? holder.error.code : 'UNAVAILABLE', holder.error ? holder.error.message : 'engine not running')
      }
      const video = await peertubeHelpers.videos.loadByIdOrUUID(videoId)
      if (!video) {
        counters.heartbeatsRejected += 1
        return sendError(res, 404, 'VIDEO_NOT_FOUND', `video ${videoId} not found`)
      }
      await manager.processLocalView({
        video: toVideoRef(video),
        currentTime: parseCurrentTime(body.currentTime),
        ip: req.ip,
        sessionId: optional(body.sessionId),
        viewEvent: optional(body.viewEvent),
      })
      counters.heartbeats += 1
      res.status(204).end()
    } catch (err) {
      counters.heartbeatsRejected += 1
      const code = (err && err.code) || 'INTERNAL'
      const status = STATUS_OF_CODE[code] || 500
      if (status === 500) logger.error('native-views: heartbeat failed', { tags: ['native-views'], err })
      try {
        sendError(res, status, code, (err && err.message) || String(err))
      } catch {}
    }
  }
}

function healthHandler({ holder, store, counters, takeover }) {
  return (req, res) => {
    try {
      const manager = holder.manager
      const body = {
        status: holder.state,
        redisPrefix: holder.options ? `redis-${holder.options.webserverHost}-` : null,
        plugin: { ...counters, ...store.totals },
      }
      if (holder.error) body.error = holder.error
      if (takeover) {
        const engine = takeover.engine()
        body.takeover = { state: takeover.state, ...(takeover.error ? { error: takeover.error } : {}) }
        if (engine && takeover.state === 'on') body.takeover.viewers = engine.getTotalViewers({ viewerScope: 'local', videoScope: 'local' })
      }
      if (manager && holder.state === 'running') {
        body.engine = manager.getInternalStats()
        body.viewers = {
          local: manager.getTotalViewers({ viewerScope: 'local', videoScope: 'local' }),
          remoteOnLocalVideos: manager.getTotalViewers({ viewerScope: 'remote', videoScope: 'local' }),
          localOnRemoteVideos: manager.getTotalViewers({ viewerScope: 'local', videoScope: 'remote' }),
        }
      }
      res.status(holder.state === 'running' ? 200 : 503).json(body)
    } catch (err) {
      try {
        res.status(500).json({ status: 'error', error: { code: (err && err.code) || 'INTERNAL', message: String(err && err.message) } })
      } catch {}
    }
  }
}

function registerRoutes(router, deps) {
  router.post('/heartbeat', heartbeatHandler(deps))
  router.get('/health', healthHandler(deps))
}

module.exports = { registerRoutes, heartbeatHandler, healthHandler }
