// Hostile input: random calls (wrong types, NaN, Infinity, huge numbers, long and odd strings,
// missing fields, inherited fields, throwing getters, BigInt, Symbol) to the hot methods. No crash,
// every failure is INVALID_ARGUMENT, and the state equals what a model of the valid calls gives.
const { VideoViewerStats, VideoViewerCounters } = require('../../index.js')
const { inspector, redisSection, uniqueHost } = require('../helpers/env')

const CALLS = Number(process.env.FUZZ_CALLS || 1_000_000)
const SEED = Number(process.env.FUZZ_SEED || Date.now() % 1_000_000)

// mulberry32: a small seeded PRNG, so a failure can be replayed with FUZZ_SEED.
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

const SESSIONS = Array.from({ length: 12 }, (_, i) => `fz-${i}`)
const UUIDS = ['uuid-a', 'uuid-b']
const ODD_STRINGS = ['', ' ', 'a b', 'é', '\u0000', '\ud800', 'x'.repeat(129), 'x'.repeat(5000), '__proto__', 'constructor', 'seek ', 'SEEK', '1e3', '../x', 'fz-1\n']
const ODD_NUMBERS = [NaN, Infinity, -Infinity, -1, -0, 0.5, 1.5, 2 ** 32, 2 ** 53, 1e300, -1e-300, Number.MAX_SAFE_INTEGER + 2]

function oddValue(r) {
  const pick = Math.floor(r() * 12)
  switch (pick) {
    case 0: return undefined
    case 1: return null
    case 2: return r() < 0.5
    case 3: return ODD_NUMBERS[Math.floor(r() * ODD_NUMBERS.length)]
    case 4: return ODD_STRINGS[Math.floor(r() * ODD_STRINGS.length)]
    case 5: return {}
    case 6: return []
    case 7: return 10n
    case 8: return Symbol('x')
    case 9: return () => 1
    case 10: return Object.create(null)
    default: return Math.floor(r() * 5)
  }
}

/** Mostly well-formed inputs, each field replaced by an odd value now and then. */
function input(r) {
  const field = (good) => (r() < 0.12 ? oddValue(r) : good)
  const video = r() < 0.03 ? oddValue(r) : { id: field(1 + Math.floor(r() * 3)), uuid: field(UUIDS[Math.floor(r() * 2)]), remote: field(r() < 0.3) }
  let value = {
    video,
    currentTime: field(Math.floor(r() * 60)),
    sessionId: field(SESSIONS[Math.floor(r() * SESSIONS.length)]),
    viewEvent: field(r() < 0.1 ? 'seek' : undefined),
    ip: field('10.0.0.1'),
  }
  const shape = r()
  if (shape < 0.02) value = oddValue(r)
  else if (shape < 0.03) value = Object.create(value) // every field inherited
  else if (shape < 0.035) {
    Object.defineProperty(value, 'currentTime', {
      get() {
        throw new Error('hostile getter')
      },
    })
  }
  return value
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)
const utf8Length = (s) => Buffer.byteLength(s, 'utf8')
const validSession = (s) => typeof s === 'string' && s.length > 0 && utf8Length(s) <= 128 && /^[A-Za-z0-9-]+$/.test(s)
const validId = (n) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= Number.MAX_SAFE_INTEGER
const optionalString = (s, max) => s === undefined || s === null || (typeof s === 'string' && utf8Length(s) <= max)

/** The rules of addLocalViewer, as documented; `null` when the call must be rejected. */
function statsModel(value) {
  let video, id, uuid, t, sessionId, viewEvent, ip
  try {
    if (!isObject(value)) return null
    video = value.video
    if (!isObject(video)) return null
    ;({ id, uuid } = video)
    ;({ currentTime: t, sessionId, viewEvent, ip } = value)
  } catch {
    return null
  }
  if (!validId(id) || !optionalString(uuid, 128)) return null
  if (typeof t !== 'number' || !Number.isInteger(t) || t < 0 || t > 2 ** 32 - 1) return null
  if (!validSession(sessionId)) return null
  if (!(viewEvent === undefined || viewEvent === null || viewEvent === 'seek')) return null
  if (!optionalString(ip, 128)) return null
  // -0 is a valid 0 (JSON has no negative zero: PeerTube stores 0 as well).
  return { key: `${sessionId}-${id}`, t: t === 0 ? 0 : t, seek: viewEvent === 'seek' }
}

function counterModel(value) {
  let video, id, uuid, remote, sessionId
  try {
    if (!isObject(value)) return null
    video = value.video
    if (!isObject(video)) return null
    ;({ id, uuid, remote } = video)
    sessionId = value.sessionId
  } catch {
    return null
  }
  if (!validId(id) || typeof uuid !== 'string' || uuid.length === 0 || utf8Length(uuid) > 128) return null
  if (!(remote === undefined || remote === null || typeof remote === 'boolean')) return null
  if (!validSession(sessionId)) return null
  return { video: id, session: sessionId }
}

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

test(`${CALLS} hostile calls: no crash, INVALID_ARGUMENT only, state of the valid calls (seed ${SEED})`, async () => {
  const r = prng(SEED)
  const host = uniqueHost()
  const stats = new VideoViewerStats({ redis: redisSection(), webserverHost: host, autoStart: false, saveViewerStats: async () => {} })
  const counters = new VideoViewerCounters({ autoStart: false, viewersFederationV2: true, loadVideo: async () => null, notifyClients: () => {}, sendView: async () => {} })
  const sections = new Map() // model: key -> [{ start, end }]
  const viewers = new Map() // model: video id -> Set(session)
  const codes = new Map()
  let valid = 0
  const record = (err) => codes.set(err?.code, (codes.get(err?.code) ?? 0) + 1)
  /** Calls `call(value)`; it must fail exactly when the model says the input is invalid. */
  const attempt = async (call, value, expected) => {
    let failure = null
    try {
      await call(value)
    } catch (err) {
      failure = err
    }
    if (failure) record(failure)
    expect(failure === null).toBe(expected !== null)
    return expected !== null
  }

  for (let i = 0; i < CALLS; i++) {
    const value = input(r)
    const which = r()
    if (which < 0.6) {
      const expected = statsModel(value)
      if (await attempt((v) => stats.addLocalViewer(v), value, expected)) {
        valid++
        const list = sections.get(expected.key) ?? []
        if (list.length < 100) {
          const last = list.at(-1)
          if (expected.seek || !last || last.start > expected.t) list.push({ start: expected.t, end: expected.t })
          else last.end = expected.t
        }
        sections.set(expected.key, list)
      }
    } else if (which < 0.95) {
      const expected = counterModel(value)
      if (await attempt((v) => counters.addLocalViewer(v), value, expected)) {
        valid++
        const set = viewers.get(expected.video) ?? new Set()
        set.add(expected.session)
        viewers.set(expected.video, set)
      }
    } else {
      // Getters with odd arguments: a number or an INVALID_ARGUMENT, never a crash.
      try {
        const n = which < 0.975 ? counters.getTotalViewersOf(oddValue(r)) : await stats.getWatchTime(oddValue(r), oddValue(r))
        expect(typeof n).toBe('number')
      } catch (err) {
        record(err)
      }
    }
  }
  console.log(`seed ${SEED}: ${CALLS} calls, ${valid} valid, rejections by code: ${JSON.stringify(Object.fromEntries(codes))}`)
  expect([...codes.keys()]).toEqual(['INVALID_ARGUMENT'])

  // Redis holds exactly the viewers and sections of the valid calls.
  await stats.syncRedisWrites()
  const prefix = `redis-${host}-`
  const members = await redis.smembers(`${prefix}local-video-viewer-stats-keys`)
  expect(members.sort()).toEqual([...sections.keys()].map((k) => `local-video-viewer-stats-${k}`).sort())
  for (const [key, expected] of sections) {
    const json = JSON.parse(await redis.get(`${prefix}local-video-viewer-stats-${key}`))
    expect({ key, sections: json.watchSections }).toEqual({ key, sections: expected })
  }
  // The counters hold exactly the viewers of the valid calls.
  for (const [videoId, set] of viewers) expect(counters.getTotalViewersOf({ id: videoId })).toBe(set.size)
  await Promise.all([stats.close(), counters.close()])
}, 240000)
