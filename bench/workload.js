// The benchmark workload: N viewers with 32-hex session ids over 100 videos, 10 heartbeats
// each (currentTime 0, 5, ... 45).
const crypto = require('node:crypto')

const VIDEOS = Array.from({ length: 100 }, (_, i) => ({
  id: i + 1,
  uuid: `dddddddd-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
  remote: false,
}))

function viewers(n) {
  return Array.from({ length: n }, (_, i) => ({
    sessionId: crypto.randomBytes(16).toString('hex'),
    video: VIDEOS[i % VIDEOS.length],
    ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
  }))
}

const HEARTBEATS = Array.from({ length: 10 }, (_, i) => i * 5)

/** Seeds `n` viewers inactive for two hours as PeerTube writes them (one section of 45 s). */
async function seedExpiredViewers(redis, prefix, n) {
  const { seedPeertubeViewers } = require('../__test__/helpers/viewers')
  const old = Date.now() - 7_200_000
  const list = viewers(n).map((v) => ({ sessionId: v.sessionId, videoId: v.video.id, firstUpdated: old, lastUpdated: old, watchSections: [{ start: 0, end: 45 }] }))
  for (let i = 0; i < list.length; i += 10_000) await seedPeertubeViewers(redis, prefix, list.slice(i, i + 10_000))
}

module.exports = { VIDEOS, viewers, HEARTBEATS, seedExpiredViewers }
