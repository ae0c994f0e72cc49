// PeerTube's VideoViewerStats and VideoViewerCounters algorithms (server/core/lib/views/shared,
// v6.1), reproduced from PeerTube's behaviour as docs/behaviour.md describes it, as the benchmark
// baseline. Same data structures and the same awaits as PeerTube; SQL is replaced by the
// host callback, logging and GeoIP (disabled) by no-ops.

const VIEWER_STATS_SET = 'local-video-viewer-stats-keys'
const MAX_LOCAL_VIEWER_WATCH_SECTIONS = 100

class PeerTubeViewerStats {
  constructor({ redis, prefix, lifetimeMs, saveViewerStats }) {
    this.redis = redis // ioredis, PeerTube's options (see run.js)
    this.prefix = prefix
    this.lifetimeMs = lifetimeMs
    this.saveViewerStats = saveViewerStats
    this.viewerCache = new Map()
    this.redisPendingWrites = new Map()
    this.processingViewersStats = false
    this.processingRedisWrites = false
  }

  // --- lib/redis.ts helpers ---
  viewerKeys(sessionId, videoId) {
    return { setKey: VIEWER_STATS_SET, viewerKey: `local-video-viewer-stats-${sessionId}-${videoId}` }
  }

  async getObject(key) {
    const value = await this.redis.get(this.prefix + key)
    if (!value) return null
    return JSON.parse(value)
  }

  async setValue(key, value) {
    const result = await this.redis.set(this.prefix + key, value)
    if (result !== 'OK') throw new Error('Redis set result is not OK.')
  }

  async redisSetLocalVideoViewer(sessionId, videoId, object) {
    const { setKey, viewerKey } = this.viewerKeys(sessionId, videoId)
    await Promise.all([this.redis.sadd(this.prefix + setKey, viewerKey), this.setValue(viewerKey, JSON.stringify(object))])
  }

  async redisDeleteLocalVideoViewer(key) {
    await Promise.all([this.redis.srem(this.prefix + VIEWER_STATS_SET, key), this.redis.del(this.prefix + key)])
  }

  // --- video-viewer-stats.ts ---
  async addLocalViewer({ video, currentTime, ip, sessionId, viewEvent }) {
    const nowMs = new Date().getTime()
    let stats = await this.getLocalVideoViewer(sessionId, video.id)
    if (stats && stats.watchSections.length >= MAX_LOCAL_VIEWER_WATCH_SECTIONS) return
    if (!stats) {
      const { country, subdivisionName } = await this.safeIPISOLookup(ip)
      stats = { firstUpdated: nowMs, lastUpdated: nowMs, watchSections: [], watchTime: 0, country, subdivisionName, videoId: video.id }
    }
    stats.lastUpdated = nowMs
    if (viewEvent === 'seek' || stats.watchSections.length === 0) {
      stats.watchSections.push({ start: currentTime, end: currentTime })
    } else {
      const lastSection = stats.watchSections[stats.watchSections.length - 1]
      if (lastSection.start > currentTime) {
        stats.watchSections.push({ start: currentTime, end: currentTime })
      } else {
        lastSection.end = currentTime
      }
    }
    stats.watchTime = this.buildWatchTimeFromSections(stats.watchSections)
    this.setLocalVideoViewer(sessionId, video.id, stats)
  }

  async safeIPISOLookup(_ip) {
    return { country: null, subdivisionName: null } // geo_ip.enabled: false
  }

  async getWatchTime(videoId, sessionId) {
    const stats = await this.getLocalVideoViewer(sessionId, videoId)
    return stats?.watchTime || 0
  }

  async getLocalVideoViewer(sessionId, videoId) {
    const { viewerKey } = this.viewerKeys(sessionId, videoId)
    return this.getLocalVideoViewerByKey(viewerKey)
  }

  async getLocalVideoViewerByKey(key) {
    const viewer = this.viewerCache.get(key)
    if (viewer) return viewer
    return this.getObject(key)
  }

  setLocalVideoViewer(sessionId, videoId, stats) {
    const { viewerKey } = this.viewerKeys(sessionId, videoId)
    this.viewerCache.set(viewerKey, stats)
    this.redisPendingWrites.set(viewerKey, { sessionId, videoId, stats })
  }

  buildWatchTimeFromSections(sections) {
    return sections.reduce((p, current) => p + (current.end - current.start), 0)
  }

  async syncRedisWrites() {
    if (this.processingRedisWrites) return
    this.processingRedisWrites = true
    for (const [key, pendingWrite] of this.redisPendingWrites) {
      const { sessionId, videoId, stats } = pendingWrite
      this.redisPendingWrites.delete(key)
      try {
        await this.redisSetLocalVideoViewer(sessionId, videoId, stats)
      } catch {
        // PeerTube logs 'Cannot write viewer into redis' and drops the write
      }
    }
    this.processingRedisWrites = false
  }

  async processViewerStats() {
    if (this.processingViewersStats) return
    this.processingViewersStats = true
    const now = new Date().getTime()
    await this.syncRedisWrites()
    const allKeys = await this.redis.smembers(this.prefix + VIEWER_STATS_SET)
    for (const key of allKeys) {
      const stats = await this.getLocalVideoViewerByKey(key)
      if (stats.lastUpdated > now - this.lifetimeMs) continue
      try {
        // sequelizeTypescript.transaction(...) → VideoModel.load, saveViewerStats, sendCreateWatchAction
        if (stats.watchTime !== 0) await this.saveViewerStats(stats)
        this.viewerCache.delete(key)
        await this.redisDeleteLocalVideoViewer(key)
      } catch {
        // 'Cannot process viewer stats for Redis key %s.'
      }
    }
    this.processingViewersStats = false
  }
}

/** The "best JS" sync: one multi-member SADD and one MSET per 1000 viewers. */
class BestJsViewerStats extends PeerTubeViewerStats {
  async syncRedisWrites() {
    const entries = [...this.redisPendingWrites]
    this.redisPendingWrites.clear()
    for (let i = 0; i < entries.length; i += 1000) {
      const chunk = entries.slice(i, i + 1000)
      const members = chunk.map(([key]) => key)
      const pairs = []
      for (const [key, { stats }] of chunk) pairs.push(this.prefix + key, JSON.stringify(stats))
      await Promise.all([this.redis.sadd(this.prefix + VIEWER_STATS_SET, ...members), this.redis.mset(...pairs)])
    }
  }
}

/** video-viewer-counters.ts: per-join notifyClients that sums the video's viewers. */
class PeerTubeViewerCounters {
  constructor({ lifetimeMs, federationV2, notifyClients, sendView }) {
    this.lifetimeMs = lifetimeMs
    this.federationV2 = federationV2
    this.notify = notifyClients
    this.sendView = sendView
    this.viewersPerVideo = new Map()
    this.idToViewer = new Map()
  }

  async addLocalViewer({ video, sessionId }) {
    const viewerId = sessionId + '-' + video.uuid
    const viewer = this.idToViewer.get(viewerId)
    if (viewer) {
      viewer.expires = this.buildViewerExpireTime()
      await this.federateViewerIfNeeded(video, viewer)
      return false
    }
    const newViewer = this.addViewerToVideo({ viewerId, video, viewerScope: 'local', viewerCount: 1 })
    await this.federateViewerIfNeeded(video, newViewer)
    return true
  }

  addViewerToVideo({ video, viewerId, viewerScope, viewerCount, replaceCurrentViewers, viewerExpires }) {
    let watchers = this.viewersPerVideo.get(video.id)
    if (!watchers || replaceCurrentViewers) {
      watchers = []
      this.viewersPerVideo.set(video.id, watchers)
    }
    const expiration = viewerExpires ? viewerExpires.getTime() : this.buildViewerExpireTime()
    const videoScope = video.remote ? 'remote' : 'local'
    const viewer = { id: viewerId, expires: expiration, videoScope, viewerScope, viewerCount, lastFederation: undefined }
    watchers.push(viewer)
    this.idToViewer.set(viewerId, viewer)
    this.notifyClients(video)
    return viewer
  }

  getTotalViewersOf(video) {
    const viewers = this.viewersPerVideo.get(video.id)
    if (!viewers) return 0
    return viewers.reduce((p, c) => p + c.viewerCount, 0)
  }

  notifyClients(video) {
    this.notify(video, this.getTotalViewersOf(video))
  }

  async federateViewerIfNeeded(video, viewer) {
    const now = Date.now()
    const federationLimit = now - this.lifetimeMs * 0.75
    if (viewer.lastFederation && viewer.lastFederation > federationLimit) return
    if (video.remote === false && this.federationV2) return
    await this.sendView({ video, viewersCount: 1, viewerIdentifier: viewer.id })
    viewer.lastFederation = now
  }

  buildViewerExpireTime() {
    return Date.now() + this.lifetimeMs
  }
}

module.exports = { PeerTubeViewerStats, BestJsViewerStats, PeerTubeViewerCounters }
