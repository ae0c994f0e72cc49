// Hostile input on the hot methods: random calls (wrong types, NaN, Infinity, huge numbers, long
// and odd strings, missing fields, inherited fields, throwing getters, Proxies, BigInt, Symbol) to
// VideoViewerStats.addLocalViewer, VideoViewerCounters.addLocalViewer and their getters, through
// the JS wrapper. No crash, every failure is INVALID_ARGUMENT, and the state equals what a model
// of the valid calls gives. fuzz-all.spec.js covers every other method.
const { VideoViewerStats, VideoViewerCounters } = require('../../index.js')
const { inspector, redisSection, uniqueHost } = require('../helpers/env')
const H = require('./fuzz-helpers')
const { SectionsModel, CountersModel, expectStatsInRedis } = require('./fuzz-models')

const { calls: CALLS, seed: SEED } = H.fuzzSettings(1_000_000)

/** Mostly well-formed inputs, each field replaced by an odd value now and then. */
function input(r) {
  const field = H.fieldOf(r, 0.12)
  const video = r() < 0.03 ? H.oddValue(r) : { id: field(1 + H.below(r, 3)), uuid: field(H.pick(r, H.UUIDS)), remote: field(r() < 0.3) }
  const value = {
    video,
    currentTime: field(H.below(r, 60)),
    sessionId: field(H.pick(r, H.SESSIONS)),
    viewEvent: field(r() < 0.1 ? 'seek' : undefined),
    ip: field('10.0.0.1'),
  }
  return H.hostileShape(r, value, ['video', 'currentTime', 'sessionId', 'viewEvent', 'ip'])
}

/** The rules of VideoViewerStats.addLocalViewer, as documented; `null` when the call must be rejected. */
function statsModel(value) {
  if (!H.isObject(value)) return null
  const f = H.readFields(value, ['video', 'currentTime', 'sessionId', 'viewEvent', 'ip'])
  if (!f || !H.isObject(f.video)) return null
  const v = H.readFields(f.video, ['id', 'uuid'])
  if (!v || !H.validId(v.id) || !H.optionalString(v.uuid, 128)) return null
  if (!H.validSeconds(f.currentTime) || !H.validSession(f.sessionId)) return null
  if (!H.validViewEvent(f.viewEvent) || !H.optionalString(f.ip, 128)) return null
  return { key: `${H.utf8(f.sessionId)}-${v.id}`, t: f.currentTime, seek: f.viewEvent === 'seek' }
}

/** The rules of VideoViewerCounters.addLocalViewer; `null` when the call must be rejected. */
function counterModel(value) {
  if (!H.isObject(value)) return null
  const f = H.readFields(value, ['video', 'sessionId'])
  const video = f && H.videoInfo(f.video)
  if (!video || !H.validSession(f.sessionId)) return null
  return { video, session: H.utf8(f.sessionId) }
}

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

test(`${CALLS} hostile calls: no crash, INVALID_ARGUMENT only, state of the valid calls (seed ${SEED})`, async () => {
  const r = H.prng(SEED)
  const host = uniqueHost()
  const stats = new VideoViewerStats({ redis: redisSection(), webserverHost: host, autoStart: false, saveViewerStats: async () => {} })
  const counters = new VideoViewerCounters({ autoStart: false, viewersFederationV2: true, loadVideo: async () => null, notifyClients: () => {}, sendView: async () => {} })
  const sections = new SectionsModel()
  const viewers = new CountersModel({ federationV2: true })
  const out = new H.Outcomes(SEED, 'fuzz.spec.js')

  for (let i = 0; i < CALLS; i++) {
    const value = input(r)
    const which = r()
    if (which < 0.6) {
      const expected = statsModel(value)
      const { ok } = await out.promised('stats.addLocalViewer', expected !== null, () => stats.addLocalViewer(value))
      if (ok) sections.heartbeat(expected.key, expected.t, expected.seek)
    } else if (which < 0.95) {
      const expected = counterModel(value)
      const { ok, value: added } = await out.promised('counters.addLocalViewer', expected !== null, () => counters.addLocalViewer(value))
      if (ok) out.check(added === viewers.addLocal(expected.video, expected.session), 'counters.addLocalViewer: new viewer or not, as the model says')
    } else if (which < 0.975) {
      // Getters with odd arguments: a number or an INVALID_ARGUMENT, never a crash.
      const arg = H.oddValue(r)
      const id = H.isObject(arg) ? H.readFields(arg, ['id'])?.id : undefined
      const { ok, value: n } = out.sync('counters.getTotalViewersOf', H.isObject(arg) && H.validId(id), () => counters.getTotalViewersOf(arg))
      if (ok) out.check(n === viewers.totalOf(id), `getTotalViewersOf(${id}) = ${n}, model ${viewers.totalOf(id)}`)
    } else {
      const [id, session] = [H.oddValue(r), H.oddValue(r)]
      const { ok, value: n } = await out.promised('stats.getWatchTime', H.validId(id) && H.validSession(session), () => stats.getWatchTime(id, session))
      if (ok) out.check(n === sections.watchTime(`${H.utf8(session)}-${id}`), 'getWatchTime as the model')
    }
  }
  console.log(`seed ${SEED}: ${out.summary()}`)
  expect(out.codeList()).toEqual(['INVALID_ARGUMENT'])

  // Redis holds exactly the viewers and sections of the valid calls.
  await stats.syncRedisWrites()
  await expectStatsInRedis(redis, `redis-${host}-`, sections)
  // The counters hold exactly the viewers of the valid calls.
  for (const [videoId, { total }] of viewers.videos) expect(counters.getTotalViewersOf({ id: videoId })).toBe(total)
  await Promise.all([stats.close(), counters.close()])
}, 240000)
