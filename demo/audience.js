// The simulated audience of one popular live: when each viewer joins and leaves, what each
// heartbeat says, and, for every local viewer, the watch sections the engine must compute
// (PeerTube's rules), so the demo can check what the engine stored against what was watched.
'use strict'

// A seeded PRNG (the same seed gives the same audience), shared with the tests.
const { prng: random } = require('../__test__/helpers/prng')

/**
 * Join and leave times (real seconds from the start) over an audience of `duration` seconds:
 * most viewers join during the first 40%, some later; 15% leave within one heartbeat; the
 * others leave between 55% and 100%, so the count rises, plateaus and falls.
 */
function presence(rand, duration, interval) {
  const joinAt = rand() < 0.85 ? 0.4 * duration * Math.sqrt(rand()) : duration * (0.4 + 0.3 * rand())
  if (rand() < 0.15) return { joinAt, leaveAt: Math.min(duration, joinAt + interval * rand()) }
  const earliest = Math.max(joinAt + 0.15 * duration, 0.55 * duration)
  return { joinAt, leaveAt: Math.min(duration, earliest + (duration - earliest) * rand()) }
}

/** A local viewer: its heartbeats and the sections PeerTube's rules make of them. */
class LocalViewer {
  constructor(index, { joinAt, leaveAt }, { speed }) {
    this.sessionId = `demo-viewer-${index}`
    this.ip = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`
    this.joinAt = joinAt
    this.leaveAt = leaveAt
    this.position = Math.floor(joinAt * speed) // joins at the live edge
    this.sections = []
    this.heartbeats = 0
  }

  /** The next heartbeat: moves the position, sometimes seeks; records it in the model. */
  next(rand, { heartbeat, seekRate }) {
    let viewEvent
    if (this.heartbeats === 0) {
      // the first heartbeat is at the live edge
    } else if (rand() < seekRate) {
      viewEvent = 'seek'
      this.position = Math.max(0, this.position - 10 - Math.floor(50 * rand())) // rewinds 10 to 60 s
    } else {
      this.position += heartbeat
    }
    this.heartbeats += 1
    return { currentTime: this.position, viewEvent, watchedDelta: this.record(this.position, viewEvent) }
  }

  /** PeerTube's section rules; returns the watch time this heartbeat added. */
  record(t, viewEvent) {
    const last = this.sections[this.sections.length - 1]
    if (viewEvent === 'seek' || !last || t < last.start) {
      this.sections.push({ start: t, end: t })
      return 0
    }
    const delta = t - last.end
    last.end = t
    return delta
  }

  get watchTime() {
    return this.sections.reduce((sum, s) => sum + s.end - s.start, 0)
  }
}

/** Remote viewers only renew their presence (every 0.75 x lifetime, as PeerTube's players' instances do). */
class RemoteViewer {
  constructor(index, { joinAt, leaveAt }) {
    this.viewerId = `https://remote-${index % 7}.example/videos/watch/live/viewer-${index}`
    this.joinAt = joinAt
    this.leaveAt = leaveAt
  }
}

function buildAudience(options) {
  const rand = random(options.seed)
  const interval = options.heartbeat / options.speed
  const local = Array.from({ length: options.viewers }, (_, i) => new LocalViewer(i, presence(rand, options.duration, interval), options))
  const remote = Array.from({ length: options.remote }, (_, i) => new RemoteViewer(i, presence(rand, options.duration, interval)))
  return { rand, local, remote, interval }
}

module.exports = { buildAudience, random, LocalViewer }
