// JS models of what the valid calls do, for the fuzz specs: watch sections (viewer stats), viewer
// counters (PeerTube's protocol with this addon's fixes Q8/Q9) and views (the view rule B10-B13,
// dedup keys, local buffer, hourly stats); and the checks that Redis holds exactly their state.
const { utf8 } = require('./fuzz-helpers')

/** Watch sections per viewer key `{sessionId}-{videoId}` (B6-B8). */
class SectionsModel {
  constructor(maxSections = 100) {
    this.max = maxSections
    this.viewers = new Map()
  }

  heartbeat(key, t, seek) {
    const list = this.viewers.get(key) ?? []
    if (list.length < this.max) {
      const last = list.at(-1)
      // -0 is a valid 0 (JSON has no negative zero: PeerTube stores 0 as well).
      const at = t === 0 ? 0 : t
      if (seek || !last || last.start > at) list.push({ start: at, end: at })
      else last.end = at
    }
    this.viewers.set(key, list)
  }

  watchTime(key) {
    return (this.viewers.get(key) ?? []).reduce((sum, s) => sum + s.end - s.start, 0)
  }
}

/**
 * Viewer counters: entries per video with their viewer scope and count, totals per scope pair,
 * remote ids deduplicated (Q8), replaced ids forgotten (Q9), Views to federate (B23).
 */
class CountersModel {
  constructor({ federationV2 }) {
    this.v2 = federationV2
    this.videos = new Map() // id -> { video, entries: Map(key -> entry), total }
    this.ids = new Map() // key -> video id
    this.totals = { local: { local: 0, remote: 0 }, remote: { local: 0, remote: 0 } }
    this.viewerViews = 0 // Views with viewersCount 1 to federate
  }

  static scope(video) {
    return video.remote ? 'remote' : 'local'
  }

  refresh(video, key, expires) {
    if (this.ids.get(key) !== video.id) return false
    const entry = this.videos.get(video.id)?.entries.get(key)
    if (!entry) return false
    entry.expires = expires
    return true
  }

  removeEntry(videoId, key) {
    this.ids.delete(key)
    const viewers = this.videos.get(videoId)
    if (!viewers) return
    const entry = viewers.entries.get(key)
    if (entry) {
      viewers.entries.delete(key)
      viewers.total -= entry.count
      this.totals[entry.scope][CountersModel.scope(viewers.video)] -= entry.count
    }
    if (viewers.entries.size === 0) this.videos.delete(videoId)
  }

  removeVideo(videoId) {
    const viewers = this.videos.get(videoId)
    if (!viewers) return
    this.videos.delete(videoId)
    for (const [key, entry] of viewers.entries) {
      this.ids.delete(key)
      this.totals[entry.scope][CountersModel.scope(viewers.video)] -= entry.count
    }
  }

  insert(video, key, scope, count, expires) {
    if (this.ids.has(key)) this.removeEntry(this.ids.get(key), key)
    let viewers = this.videos.get(video.id)
    if (!viewers) {
      viewers = { video: { ...video }, entries: new Map(), total: 0 }
      this.videos.set(video.id, viewers)
    }
    const known = viewers.video
    if (known.uuid !== video.uuid || known.remote !== video.remote) {
      // The host now says otherwise about the video: totals move between video scopes.
      for (const entry of viewers.entries.values()) {
        this.totals[entry.scope][CountersModel.scope(known)] -= entry.count
        this.totals[entry.scope][CountersModel.scope(video)] += entry.count
      }
      viewers.video = { ...video }
    }
    viewers.entries.set(key, { expires, scope, count, federated: false })
    viewers.total += count
    this.totals[scope][CountersModel.scope(video)] += count
    this.ids.set(key, video.id)
  }

  /** A local viewer (identity) on `video`; `true` when new. Entries of local viewers never expire here. */
  addLocal(video, identity) {
    const key = `L|${video.id}|${identity}`
    const added = !this.refresh(video, key, Infinity)
    if (added) this.insert(video, key, 'local', 1, Infinity)
    if (video.remote || !this.v2) {
      const entry = this.videos.get(video.id).entries.get(key)
      if (!entry.federated) {
        entry.federated = true
        this.viewerViews++
      }
    }
    return added
  }

  addRemoteOnLocal(video, viewerId, expires) {
    const key = `R|${utf8(viewerId)}`
    if (this.refresh(video, key, expires)) return false
    this.insert(video, key, 'remote', 1, expires)
    return true
  }

  addRemoteOnRemote(video, viewerId, expires, counter) {
    if (counter === null || counter === undefined) return this.addRemoteOnLocal(video, viewerId, expires)
    this.removeVideo(video.id)
    this.insert(video, `R|${utf8(viewerId)}`, 'remote', counter, expires)
    return true
  }

  totalOf(id) {
    return this.videos.get(id)?.total ?? 0
  }

  /**
   * A cleanup at `now`: expired entries dropped; `hostVideo(id)` is what loadVideo answers.
   * Returns the expected `{ videos, expired, federated }`.
   */
  clean(now, hostVideo) {
    const report = { videos: this.videos.size, expired: 0, federated: 0 }
    const cleaned = [...this.videos.keys()]
    for (const [id, viewers] of [...this.videos]) {
      for (const [key, entry] of [...viewers.entries]) {
        if (entry.expires <= now) {
          report.expired++
          this.ids.delete(key)
          viewers.entries.delete(key)
          viewers.total -= entry.count
          this.totals[entry.scope][CountersModel.scope(viewers.video)] -= entry.count
        }
      }
      if (viewers.entries.size === 0) this.videos.delete(id)
    }
    for (const id of cleaned) {
      const loaded = hostVideo(id)
      if (loaded && this.v2 && !loaded.remote && this.totalOf(id) > 0) report.federated++
    }
    return report
  }
}

/**
 * B10-B11: a live, or a VOD at least `countViewAfter` long, counts once `watchTime >= threshold`;
 * a shorter VOD once more than half of it is watched (`duration / watchTime < 2`, never with 0).
 */
function hasEnoughWatchTime(duration, isLive, watchTime, countViewAfterMs) {
  const threshold = countViewAfterMs / 1000
  if (isLive || duration === null || duration >= threshold) return watchTime >= threshold
  return watchTime > 0 && duration / watchTime < 2
}

const localHour = (ms) => new Date(ms).getHours()

/** Views: dedup keys, the local buffer and hourly counters, as Redis must hold them (B12-B15). */
class ViewsModel {
  constructor({ countViewAfterMs = 10_000 } = {}) {
    this.countViewAfterMs = countViewAfterMs
    this.dedup = new Set() // un-prefixed `views-{uuid}-{identity}`
    this.buffer = new Map() // video id -> views
    this.hourly = new Map() // hour -> Map(video id -> views)
    this.counted = 0 // counted local views: one View activity each
  }

  /** Would this watch time count a view now? (Before the call; `apply` records it.) */
  decide(video, identity, watchTime) {
    if (!hasEnoughWatchTime(video.duration, video.isLive, watchTime, this.countViewAfterMs)) return null
    const key = `views-${video.uuid}-${utf8(identity)}`
    return this.dedup.has(key) ? null : key
  }

  countLocal(key, video, hour) {
    this.dedup.add(key)
    this.counted++
    this.add(video, hour)
  }

  /** B13/B15: hourly counter always, buffer when the video is ours. */
  add(video, hour) {
    const hours = this.hourly.get(hour) ?? new Map()
    hours.set(video.id, (hours.get(video.id) ?? 0) + 1)
    this.hourly.set(hour, hours)
    if (!video.remote) this.buffer.set(video.id, (this.buffer.get(video.id) ?? 0) + 1)
  }

  /** A drain of `counts` where the host refuses `failing` ids: the expected report, and what stays. */
  static drain(counts, failing) {
    const report = { videos: 0, views: 0, failed: 0 }
    for (const [id, views] of [...counts]) {
      if (failing.has(id)) {
        report.failed++
      } else {
        report.videos++
        report.views += views
        counts.delete(id)
      }
    }
    return report
  }

  drainBuffer(failing) {
    return ViewsModel.drain(this.buffer, failing)
  }

  drainHour(hour, failing) {
    const counts = this.hourly.get(hour) ?? new Map()
    const report = ViewsModel.drain(counts, failing)
    if (counts.size === 0) this.hourly.delete(hour)
    return report
  }
}

/**
 * The local hour a call that ran from `t0` to `t1` used for its hourly increment of `videoId`:
 * when the call straddled an hour boundary, Redis tells which hour got it.
 */
async function hourOfCall(redis, prefix, model, videoId, t0, t1) {
  const h0 = localHour(t0)
  const h1 = localHour(t1)
  if (h0 === h1) return h0
  const before = model.hourly.get(h0)?.get(videoId) ?? 0
  const now = Number(await redis.get(`${prefix}video-view-${videoId}-h${h0}`))
  return now === before + 1 ? h0 : h1
}

async function scanKeys(redis, pattern) {
  const keys = []
  let cursor = '0'
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/** Redis holds exactly the viewers and sections of the model (after a sync). */
async function expectStatsInRedis(redis, prefix, sections) {
  const members = await redis.smembers(`${prefix}local-video-viewer-stats-keys`)
  expect(members.sort()).toEqual([...sections.viewers.keys()].map((k) => `local-video-viewer-stats-${k}`).sort())
  for (const [key, expected] of sections.viewers) {
    const json = JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-${key}`))
    expect({ key, sections: json.watchSections }).toEqual({ key, sections: expected })
  }
}

const asCounts = (entries) => Object.fromEntries([...entries].filter(([, n]) => n > 0).map(([id, n]) => [String(id), n]))

/** Redis holds exactly the model's dedup keys (with a TTL within `viewExpirationMs`), buffer and hourly counters. */
async function expectViewsInRedis(redis, prefix, model, viewExpirationMs) {
  const dedup = (await scanKeys(redis, `${prefix}views-*`)).map((k) => k.slice(prefix.length))
  expect(dedup.sort()).toEqual([...model.dedup].sort())
  for (const key of dedup.slice(0, 200)) {
    const ttl = await redis.pttl(`${prefix}${key}`)
    expect(ttl > 0 && ttl <= viewExpirationMs).toBe(true)
  }
  const counters = async (set, keyOf) => {
    const out = {}
    for (const id of await redis.smembers(`${prefix}${set}`)) out[id] = Number(await redis.get(`${prefix}${keyOf(id)}`))
    return out
  }
  expect(await counters('local-video-views-buffer', (id) => `local-video-views-buffer-${id}`)).toEqual(asCounts(model.buffer))
  for (let hour = 0; hour < 24; hour++) {
    const actual = await counters(`videos-view-h${hour}`, (id) => `video-view-${id}-h${hour}`)
    expect({ hour, counts: actual }).toEqual({ hour, counts: asCounts(model.hourly.get(hour) ?? []) })
  }
  // No counter is left without its set member.
  const buffers = await scanKeys(redis, `${prefix}local-video-views-buffer-*`)
  expect(buffers.length).toBe(Object.keys(asCounts(model.buffer)).length)
}

module.exports = { SectionsModel, CountersModel, ViewsModel, hasEnoughWatchTime, localHour, hourOfCall, expectStatsInRedis, expectViewsInRedis }
