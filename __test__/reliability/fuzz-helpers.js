// Shared pieces of the hostile-input fuzz specs: the seeded PRNG, generators of odd and hostile
// values (prototype-polluting JSON, inherited fields, throwing getters, Proxies), the documented
// input rules as predicates, and the checker of every call's outcome.
const crypto = require('node:crypto')
const { types } = require('node:util')
const { prng, seedFrom } = require('../helpers/prng')

/** Calls and seed of a run: FUZZ_CALLS and FUZZ_SEED override them (FUZZ_SEED replays a run). */
function fuzzSettings(defaultCalls) {
  return {
    calls: Number(process.env.FUZZ_CALLS || defaultCalls),
    seed: seedFrom('FUZZ_SEED'),
  }
}

const below = (r, n) => Math.floor(r() * n)
const pick = (r, list) => list[below(r, list.length)]

const SESSIONS = Array.from({ length: 12 }, (_, i) => `fz-${i}`)
const UUIDS = ['uuid-a', 'uuid-b']
const ODD_STRINGS = ['', ' ', 'a b', 'é', '\u0000', '\ud800', 'x'.repeat(129), 'a'.repeat(128) + 'é', 'a'.repeat(127) + '€', 'a'.repeat(126) + '😀', 'x'.repeat(257), 'a'.repeat(256) + 'é', 'a'.repeat(255) + '€', 'a'.repeat(254) + '😀', '8.8.8.8,127.0.0.1', 'x'.repeat(5000), '__proto__', 'constructor', 'seek ', 'SEEK', '1e3', '../x', 'fz-1\n']
const ODD_NUMBERS = [NaN, Infinity, -Infinity, -1, -0, 0.5, 1.5, 2 ** 32, 2 ** 53, 1e300, -1e-300, Number.MAX_SAFE_INTEGER + 2]

function throwingGetter(target, field) {
  Object.defineProperty(target, field, {
    enumerable: true,
    get() {
      throw new Error('hostile getter')
    },
  })
  return target
}

function revokedProxy() {
  const { proxy, revoke } = Proxy.revocable({}, {})
  revoke()
  return proxy
}

/** An object whose prototype came from `JSON.parse('{"__proto__": ...}')` through Object.assign. */
function pollutedByAssign(fields) {
  const parsed = JSON.parse('{"__proto__": {}}')
  Object.assign(parsed['__proto__'], fields)
  return Object.assign({}, parsed)
}

/** The fields as own properties next to an own `"__proto__"` data property (JSON.parse keeps it). */
function withOwnProtoKey(fields) {
  return Object.assign(JSON.parse('{"__proto__": {"sessionId": "fz-0", "currentTime": 1, "video": {"id": 1}}}'), fields)
}

function oddValue(r) {
  switch (below(r, 20)) {
    case 0: return undefined
    case 1: return null
    case 2: return r() < 0.5
    case 3: return pick(r, ODD_NUMBERS)
    case 4: return pick(r, ODD_STRINGS)
    case 5: return {}
    case 6: return []
    case 7: return 10n
    case 8: return Symbol('x')
    case 9: return () => 1
    case 10: return Object.create(null)
    case 11: return JSON.parse('{"__proto__": {"id": 1, "uuid": "uuid-a", "sessionId": "fz-1"}}')
    case 12: return pollutedByAssign({ id: 1, uuid: 'uuid-a' })
    case 13: return new Proxy({ id: 1, uuid: 'uuid-a' }, { get() { throw new Error('hostile proxy') } })
    case 14: return revokedProxy()
    case 15: return throwingGetter({}, 'id')
    case 16: return r() < 0.5 ? new Date(NaN) : new Date(0)
    case 17: return r() < 0.5 ? new String('seek') : new Number(1) // eslint-disable-line no-new-wrappers
    case 18: return [1, 'uuid-a']
    default: return below(r, 5)
  }
}

/**
 * A hostile form of the well-formed object `value`: mostly itself, sometimes an odd value, its
 * fields inherited (Object.create or a JSON `__proto__` assigned), a getter that throws on one of
 * `fields`, a Proxy (transparent, throwing or revoked), or an own `"__proto__"` key beside it.
 */
function hostileShape(r, value, fields) {
  const shape = r()
  if (shape < 0.965) return value
  if (shape < 0.97) return oddValue(r)
  if (shape < 0.975) return Object.create(value)
  if (shape < 0.98) return pollutedByAssign(value)
  if (shape < 0.985) return throwingGetter({ ...value }, pick(r, fields))
  if (shape < 0.99) return new Proxy(value, {})
  if (shape < 0.993) return new Proxy(value, { get() { throw new Error('hostile proxy') } })
  if (shape < 0.995) return revokedProxy()
  return withOwnProtoKey(value)
}

/** Replaces a good field by an odd value now and then. */
const fieldOf = (r, rate) => (good) => (r() < rate ? oddValue(r) : good)

// ---- The documented input rules, as predicates over plain JS values ----

/** Object, not array, not null: what the addon calls an object (never throws, even on a revoked Proxy). */
function isObject(value) {
  try {
    return value !== null && typeof value === 'object' && !Array.isArray(value)
  } catch {
    return false
  }
}

/** Reads `names` from `object` as the addon does; `null` if a read throws. */
function readFields(object, names) {
  try {
    const out = {}
    for (const name of names) out[name] = object[name]
    return out
  } catch {
    return null
  }
}

const utf8Length = (s) => Buffer.byteLength(s, 'utf8')
/** The string as the addon sees it: UTF-8, lone surrogates replaced by U+FFFD. */
const utf8 = (s) => Buffer.from(s, 'utf8').toString('utf8')
const nullish = (v) => v === undefined || v === null
const MAX_SAFE = Number.MAX_SAFE_INTEGER

const validId = (n) => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_SAFE
const validUuid = (s) => typeof s === 'string' && s.length > 0 && utf8Length(s) <= 128
const optionalBool = (v) => nullish(v) || typeof v === 'boolean'
const optionalString = (s, max) => nullish(s) || (typeof s === 'string' && utf8Length(s) <= max)
/** A session id: any text of 1 to 256 UTF-8 bytes (PeerTube 6.1 does not validate it). */
const validSession = (s) => typeof s === 'string' && s.length > 0 && utf8Length(s) <= 256
/** The manager's `sessionId`: not read when untrusted; else absent, or text of at most 256 bytes (empty: the IP). */
const validViewSession = (s, trust) => !trust || nullish(s) || (typeof s === 'string' && utf8Length(s) <= 256)
/** currentTime / watchTime: whole seconds in [0, 2^32 - 1]. */
const validSeconds = (t) => typeof t === 'number' && Number.isInteger(t) && t >= 0 && t <= 2 ** 32 - 1
const validVideoDuration = (d) => nullish(d) || (typeof d === 'number' && Number.isFinite(d) && d >= 0)
const validViewEvent = (e) => nullish(e) || e === 'seek'
const validViewerId = (s) => typeof s === 'string' && s.length > 0 && utf8Length(s) <= 2048
const validResultCounter = (n) => nullish(n) || (typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 1e12)
const validHour = (h) => nullish(h) || (typeof h === 'number' && Number.isInteger(h) && h >= 0 && h <= 23)
const validScope = (s) => s === 'local' || s === 'remote'

/** `{ id, uuid, remote }` of a video object when valid (uuid required), else null. */
function videoInfo(video) {
  if (!isObject(video)) return null
  const f = readFields(video, ['id', 'uuid', 'remote'])
  if (!f || !validId(f.id) || !validUuid(f.uuid) || !optionalBool(f.remote)) return null
  return { id: f.id, uuid: utf8(f.uuid), remote: f.remote === true }
}

/** `{ id, uuid, remote, duration, isLive }` of a video object when valid, else null. */
function videoForView(video) {
  const info = videoInfo(video)
  if (!info) return null
  const f = readFields(video, ['duration', 'isLive'])
  if (!f || !validVideoDuration(f.duration) || !optionalBool(f.isLive)) return null
  return { ...info, duration: nullish(f.duration) ? null : f.duration, isLive: f.isLive === true }
}

/** ISO 8601 strings for `viewerExpires`, with the ms the addon reads from them (null: invalid). */
const ISO_DATES = [
  ['2100-01-01T00:00:00Z', Date.UTC(2100, 0, 1)],
  ['2100-01-01 00:00:00', Date.UTC(2100, 0, 1)],
  ['2099-12-31T23:00:00.5+01:30', Date.UTC(2099, 11, 31, 21, 30, 0, 500)],
  ['2000-01-01T00:00:00.000Z', Date.UTC(2000, 0, 1)],
  ['1970-01-01T00:00:00Z', 0],
  ['2024-13-01T00:00:00Z', null],
  ['2023-02-29T00:00:00Z', null],
  ['2024-01-01T24:00:00Z', null],
  ['2024-01-01T00:00:00+25:00', null],
  ['2024-01-01', null],
  ['tomorrow', null],
]

/**
 * A `viewerExpires` value: far in the past or at least a day ahead (a cleanup never races it),
 * or invalid.
 */
function expiresValue(r, now) {
  const future = now + 86_400_000 + below(r, 1000)
  switch (below(r, 9)) {
    case 0: return future
    case 1: return new Date(future)
    case 2: return new Date(future).toISOString()
    case 3: return pick(r, ISO_DATES)[0]
    case 4: return pick(r, [0, 1.5, 1000, MAX_SAFE])
    case 5: return pick(r, [-1, NaN, Infinity, 2 ** 53, new Date(NaN), new Date(-1)])
    case 6: return oddValue(r)
    case 7: return 'x'.repeat(65)
    default: return future
  }
}

const GENERATED_ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

/** What the addon reads from a `viewerExpires` value: ms, or null when invalid. */
function timestampMs(value) {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= MAX_SAFE ? Math.trunc(value) : null
  if (typeof value === 'string') {
    const entry = ISO_DATES.find(([text]) => text === value)
    if (entry) return entry[1]
    return GENERATED_ISO.test(value) ? Date.parse(value) : null
  }
  if (types.isDate(value)) {
    const ms = value.getTime()
    return Number.isFinite(ms) && ms >= 0 && ms <= MAX_SAFE ? Math.trunc(ms) : null
  }
  return null
}

/** PeerTube's viewer identity: the session id, else sha256(salt + '-' + ip) (ip absent: 'null'). */
function viewerIdentity(sessionId, trust, ip, salt = '[object Object]') {
  if (trust && !nullish(sessionId) && sessionId !== '') return utf8(sessionId)
  return crypto.createHash('sha256').update(`${salt}-${nullish(ip) ? 'null' : utf8(ip)}`).digest('hex')
}

// ---- Outcome checks ----

/**
 * Runs calls and checks each outcome: a failure must be an INVALID_ARGUMENT TypeError or
 * RangeError, and it must happen exactly when the model says the call is invalid. The first
 * mismatch throws with the seed and the call number, so `FUZZ_SEED` replays it.
 */
class Outcomes {
  constructor(seed, label) {
    this.seed = seed
    this.label = label
    this.calls = 0
    this.valid = 0
    this.codes = new Map()
  }

  fail(message) {
    throw new Error(`${this.label}, call ${this.calls} (FUZZ_SEED=${this.seed}): ${message}`)
  }

  check(condition, message) {
    if (!condition) this.fail(typeof message === 'function' ? message() : message)
  }

  rejected(err, what) {
    const code = err?.code
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1)
    if (code !== 'INVALID_ARGUMENT' || !(err.name === 'TypeError' || err.name === 'RangeError')) {
      this.fail(`${what} failed with ${err?.name} code ${code}: ${err?.message}`)
    }
  }

  /**
   * `call()` for a Promise-returning method (or one answering a plain value): it must never
   * throw synchronously. Resolves `{ ok, value }`; `ok` must equal `valid`.
   */
  async promised(what, valid, call) {
    this.calls++
    let result
    try {
      result = call()
    } catch (err) {
      this.fail(`${what} threw synchronously: ${err?.code} ${err?.message}`)
    }
    try {
      const value = await result
      if (!valid) this.fail(`${what} succeeded with an input the model rejects`)
      this.valid++
      return { ok: true, value }
    } catch (err) {
      if (err?.message?.includes('FUZZ_SEED=')) throw err
      this.rejected(err, what)
      if (valid) this.fail(`${what} rejected an input the model accepts: ${err.message}`)
      return { ok: false }
    }
  }

  /** `call()` for a synchronous method: it throws on bad input and never returns a Promise. */
  sync(what, valid, call) {
    this.calls++
    let value
    try {
      value = call()
    } catch (err) {
      this.rejected(err, what)
      if (valid) this.fail(`${what} threw on an input the model accepts: ${err.message}`)
      return { ok: false }
    }
    if (value instanceof Promise || typeof value?.then === 'function') this.fail(`${what} returned a Promise`)
    if (!valid) this.fail(`${what} succeeded with an input the model rejects`)
    this.valid++
    return { ok: true, value }
  }

  summary() {
    return `${this.label}: ${this.calls} calls, ${this.valid} valid, rejections by code ${JSON.stringify(Object.fromEntries(this.codes))}`
  }

  /** Codes seen: only INVALID_ARGUMENT (or none). */
  codeList() {
    return [...this.codes.keys()]
  }
}

module.exports = {
  fuzzSettings,
  prng,
  below,
  pick,
  SESSIONS,
  UUIDS,
  ODD_STRINGS,
  ODD_NUMBERS,
  oddValue,
  hostileShape,
  fieldOf,
  throwingGetter,
  pollutedByAssign,
  isObject,
  readFields,
  utf8,
  utf8Length,
  nullish,
  validId,
  validUuid,
  optionalBool,
  optionalString,
  validSession,
  validViewSession,
  validSeconds,
  validVideoDuration,
  validViewEvent,
  validViewerId,
  validResultCounter,
  validHour,
  validScope,
  videoInfo,
  videoForView,
  expiresValue,
  timestampMs,
  viewerIdentity,
  Outcomes,
}
