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

module.exports = { VIDEOS, viewers, HEARTBEATS }
