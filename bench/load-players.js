// The players of bench/peertube-load.js: who watches which video, when each heartbeat is due
// (open loop: the schedule is fixed before the run, whatever the server answers) and what it
// says (`currentTime`, `viewEvent`). Deterministic for a seed.
'use strict'

const crypto = require('node:crypto')

/** A small seeded PRNG (mulberry32): the same seed gives the same players. */
function prng(seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/**
 * The heartbeats of a run, sorted by due time (ms from the start):
 * `{ at, player, video, body: { currentTime, sessionId, viewEvent? } }`.
 * - `viewers` players; player i watches `videos[i % videos.length]` (one video: a popular live).
 * - `join`: `'storm'` (everyone within `stormMs`) or `'ramp'` (evenly over `rampMs`).
 * - Each player sends a heartbeat on joining, then every `intervalMs` of wall time, each one
 *   `playSeconds` further in the video (PeerTube's player: 5 s); with probability `seekRate` a
 *   heartbeat is a seek to another position instead.
 * - A player leaves after `watchMs` (each its own, between `watchMs[0]` and `watchMs[1]`), or at
 *   `durationMs`, whichever comes first.
 * - `maxTime`: a VOD's duration (positions wrap with a seek); `null` for a live.
 */
function schedule({
  viewers,
  videos,
  join = 'storm',
  stormMs = 1000,
  rampMs = 60_000,
  intervalMs = 5000,
  playSeconds = 5,
  seekRate = 0.02,
  watchMs = [Infinity, Infinity],
  durationMs,
  maxTime = null,
  seed = 1,
}) {
  const random = prng(seed)
  const beats = []
  for (let player = 0; player < viewers; player++) {
    const video = videos[player % videos.length]
    const joinAt = join === 'ramp' ? (rampMs * player) / viewers : random() * stormMs
    const leaveAt = Math.min(durationMs, joinAt + watchMs[0] + random() * (watchMs[1] - watchMs[0] || 0))
    const sessionId = crypto.createHash('sha256').update(`${seed}-${player}`).digest('hex').slice(0, 32)
    let position = maxTime ? Math.floor(random() * maxTime) : 0
    let wrapped = false
    for (let at = joinAt, n = 0; at < leaveAt; at += intervalMs, n++) {
      const body = { currentTime: position, sessionId }
      if (n === 0 || wrapped || random() < seekRate) {
        if (n > 0 && !wrapped) position = Math.floor(random() * (maxTime ?? position + 600))
        body.currentTime = position
        body.viewEvent = 'seek'
      }
      beats.push({ at, player, video, body })
      position += playSeconds
      wrapped = Boolean(maxTime && position > maxTime)
      if (wrapped) position = 0
    }
  }
  beats.sort((a, b) => a.at - b.at)
  return beats
}

/** The watched seconds the server should store for these heartbeats (PeerTube's section rules). */
function expectedWatchSeconds(beats) {
  const last = new Map()
  let total = 0
  for (const { player, body } of beats) {
    const previous = last.get(player)
    if (previous !== undefined && body.viewEvent !== 'seek' && body.currentTime > previous) total += body.currentTime - previous
    last.set(player, body.currentTime)
  }
  return total
}

module.exports = { expectedWatchSeconds, prng, schedule }
