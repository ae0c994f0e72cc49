// Plays the audience against a VideoViewsManager in real time: local heartbeats through
// processLocalView, remote viewers through processRemoteView with viewerExpires, one sample
// per second (viewers now, heartbeats/s, pending writes, watch time watched and stored), then
// waits until the counters reach zero and every viewer with watch time has been stored.
// The counters' cleanup runs every second here (PeerTube: once per viewer counter lifetime),
// so the viewer count follows viewers leaving within a second instead of in steps.
'use strict'

const { performance } = require('node:perf_hooks')

const TICK_MS = 100
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

class Simulation {
  constructor({ manager, video, audience, options, stored, progress }) {
    Object.assign(this, { manager, video, audience, options, stored, progress })
    this.buckets = new Map() // tick index -> tasks due then
    this.samples = []
    this.totals = { heartbeats: 0, heartbeatErrors: 0, seeks: 0, remoteRenewals: 0, views: 0, watched: 0, errorCodes: {} }
    this.peak = { viewers: 0, at: 0, remote: 0, heartbeatsPerSecond: 0 }
    this.lastSample = { heartbeats: 0 }
  }

  schedule(atSeconds, task) {
    const tick = Math.max(0, Math.round((atSeconds * 1000) / TICK_MS))
    if (!this.buckets.has(tick)) this.buckets.set(tick, [])
    this.buckets.get(tick).push(task)
  }

  elapsed() {
    return (performance.now() - this.startedAt) / 1000
  }

  heartbeat(viewer, at) {
    const { currentTime, viewEvent, watchedDelta } = viewer.next(this.audience.rand, this.options)
    if (viewEvent) this.totals.seeks += 1
    this.totals.watched += watchedDelta
    const next = at + this.audience.interval
    if (next < viewer.leaveAt) this.schedule(next, () => this.heartbeat(viewer, next))
    const input = { video: this.video, currentTime, ip: viewer.ip, sessionId: viewer.sessionId, viewEvent }
    try {
      const result = this.manager.processLocalView(input)
      return result instanceof Promise ? result.then((r) => this.accepted(r), (err) => this.refused(err)) : this.accepted(result)
    } catch (err) {
      return this.refused(err)
    }
  }

  accepted(result) {
    this.totals.heartbeats += 1
    if (result.successView) this.totals.views += 1
  }

  refused(err) {
    this.totals.heartbeatErrors += 1
    const code = (err && err.code) || 'INTERNAL'
    this.totals.errorCodes[code] = (this.totals.errorCodes[code] || 0) + 1
  }

  renewRemote(viewer, at) {
    const every = 0.75 * this.options.counterLifetime
    if (at + every < viewer.leaveAt) this.schedule(at + every, () => this.renewRemote(viewer, at + every))
    this.totals.remoteRenewals += 1
    const viewerExpires = Date.now() + this.options.counterLifetime * 1000
    return this.manager.processRemoteView({ video: this.video, viewerId: viewer.viewerId, viewerExpires }).catch((err) => this.refused(err))
  }

  sample() {
    const t = this.elapsed()
    const stats = this.manager.getInternalStats()
    const viewers = this.manager.getTotalViewersOf(this.video)
    const remoteViewers = this.manager.getTotalViewers({ viewerScope: 'remote', videoScope: 'local' })
    const previous = this.samples[this.samples.length - 1]
    const seconds = previous ? t - previous.t : t
    const heartbeatsPerSecond = seconds > 0 ? (this.totals.heartbeats - this.lastSample.heartbeats) / seconds : 0
    this.lastSample.heartbeats = this.totals.heartbeats
    const s = { t, viewers, remoteViewers, heartbeatsPerSecond, pendingWrites: stats.pendingWrites, cachedViewers: stats.cachedViewers, watched: this.totals.watched, stored: this.stored.watchTime, viewersStored: this.stored.viewers, views: this.totals.views }
    this.samples.push(s)
    if (viewers > this.peak.viewers) Object.assign(this.peak, { viewers, at: t })
    this.peak.remote = Math.max(this.peak.remote, remoteViewers)
    this.peak.heartbeatsPerSecond = Math.max(this.peak.heartbeatsPerSecond, heartbeatsPerSecond)
    this.progress.update(
      `${t.toFixed(1).padStart(6)} s | viewers ${String(viewers).padStart(5)} (${remoteViewers} remote) | ${Math.round(heartbeatsPerSecond).toString().padStart(5)} heartbeats/s | pending writes ${String(stats.pendingWrites).padStart(5)} | stored ${this.stored.viewers} | views ${this.totals.views}`,
    )
    return s
  }

  /** The audience phase, then the drain; resolves to { audienceSeconds, drained }. */
  async run() {
    for (const viewer of this.audience.local) this.schedule(viewer.joinAt, () => this.heartbeat(viewer, viewer.joinAt))
    for (const viewer of this.audience.remote) this.schedule(viewer.joinAt, () => this.renewRemote(viewer, viewer.joinAt))
    this.startedAt = performance.now()
    this.sample()
    let nextSample = 1
    let tick = 0
    const lastTick = Math.ceil((this.options.duration * 1000) / TICK_MS)
    for (; tick <= lastTick; tick++) {
      const tasks = this.buckets.get(tick)
      if (tasks) {
        this.buckets.delete(tick)
        const pending = tasks.map((task) => task()).filter((r) => r instanceof Promise)
        if (pending.length > 0) await Promise.all(pending)
      }
      if (this.elapsed() >= nextSample) {
        await this.manager.cleanViewerCounters()
        this.sample()
        nextSample += 1
      }
      const wait = (tick + 1) * TICK_MS - (performance.now() - this.startedAt)
      if (wait > 0) await sleep(wait)
    }
    const audienceSeconds = this.elapsed()
    const expectedStored = this.audience.local.filter((v) => v.watchTime > 0).length

    // Drain: the counters expire viewers after their lifetime, the engine stores inactive viewers.
    const deadline = audienceSeconds + this.options.drainTimeout
    let drained = false
    while (this.elapsed() < deadline) {
      await sleep(Math.max(0, nextSample - this.elapsed()) * 1000)
      nextSample += 1
      await this.manager.cleanViewerCounters()
      const s = this.sample()
      if (s.viewers === 0 && s.pendingWrites === 0 && this.stored.viewers >= expectedStored) {
        drained = true
        break
      }
    }
    this.progress.done()
    return { audienceSeconds, drained }
  }
}

module.exports = { Simulation }
