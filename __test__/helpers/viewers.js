// PeerTube's viewer stats as data: the section rules as a model (B6-B8, docs/behaviour.md) and the JSON it
// stores in Redis, to seed viewers as PeerTube would and to check what the host received.

/** Applies one heartbeat to `sections` with PeerTube's rules (cap: 100 sections). */
function applyHeartbeat(sections, currentTime, seek = false) {
  if (sections.length >= 100) return sections
  const last = sections[sections.length - 1]
  if (seek || !last || currentTime < last.start) sections.push({ start: currentTime, end: currentTime })
  else last.end = currentTime
  return sections
}

const watchTime = (sections) => sections.reduce((sum, s) => sum + s.end - s.start, 0)

/** The value PeerTube's JSON.stringify writes for a viewer (field order included). */
function peertubeViewerJson({ firstUpdated, lastUpdated, watchSections, videoId, country = null, subdivisionName = null }) {
  return JSON.stringify({ firstUpdated, lastUpdated, watchSections, watchTime: watchTime(watchSections), country, subdivisionName, videoId })
}

/** Writes viewers into Redis as PeerTube does (`SADD` of the member, `SET` of the JSON). */
async function seedPeertubeViewers(redis, prefix, viewers) {
  const pipeline = redis.pipeline()
  for (const v of viewers) {
    const member = `local-video-viewer-stats-${v.sessionId}-${v.videoId}`
    pipeline.sadd(`${prefix}local-video-viewer-stats-keys`, member)
    pipeline.set(`${prefix}${member}`, peertubeViewerJson(v))
  }
  await pipeline.exec()
}

module.exports = { applyHeartbeat, watchTime, peertubeViewerJson, seedPeertubeViewers }
