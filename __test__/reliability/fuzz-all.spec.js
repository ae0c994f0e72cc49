// Hostile input on every exported method (binding.d.ts) that fuzz.spec.js does not cover, and on
// the native entries behind the JS wrapper (the object paths and the positional `*Args` entries):
// VideoViews, VideoViewsManager, the rest of VideoViewerCounters and VideoViewerStats, the four
// constructors and getNativeMemory. For each call: no crash, every failure is an INVALID_ARGUMENT
// TypeError or RangeError, a call succeeds exactly when the model says it is valid, its answer is
// the model's; and at the end Redis (dedup keys, buffer, hourly counters, viewer stats) and the
// counters hold exactly the model's state. FUZZ_SEED replays a run, FUZZ_CALLS scales it.
const native = require('../../index.js')
const binding = require('../../binding.js')
const { inspector, redisSection, uniqueHost, waitFor } = require('../helpers/env')
const H = require('./fuzz-helpers')
const M = require('./fuzz-models')

const { calls: CALLS, seed: SEED } = H.fuzzSettings(1_000_000)
const share = (fraction) => Math.max(1000, Math.round(CALLS * fraction))
const VIEW_EXPIRATION = 3_600_000
const VIEWER_IDS = ['r-0', 'r-1', 'r-2', 'r-3', 'r-4', 'r-5', 'é', '\ud800', '\ufffd', 'x'.repeat(2048), 'x'.repeat(2049), '']
const IPS = ['10.0.0.1', '10.0.0.2', '::1', 'é\ud800', null, undefined]

/** What loadVideo answers (the host's database). */
const HOST_VIDEOS = new Map([
  [1, { id: 1, uuid: 'uuid-a', remote: false }],
  [2, { id: 2, uuid: 'uuid-b', remote: false }],
  [3, { id: 3, uuid: 'uuid-a', remote: true }],
])
const hostVideo = (id) => HOST_VIDEOS.get(id) ?? null

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

/** Host callbacks that record what they receive and refuse the video ids in `failing`. */
function recordingHost() {
  const host = {
    failing: new Set(),
    sent: [],
    increments: new Map(),
    hourly: [],
    sendView: async (view) => {
      host.sent.push(view)
    },
    incrementVideoViews: async ({ videoId, views }) => {
      if (host.failing.has(videoId)) throw new Error('refused')
      host.increments.set(videoId, (host.increments.get(videoId) ?? 0) + views)
    },
    saveHourlyViews: async (record) => {
      if (host.failing.has(record.videoId)) throw new Error('refused')
      host.hourly.push(record)
    },
    saveViewerStats: async () => {},
    loadVideo: async (id) => hostVideo(id),
    notifyClients: () => {},
  }
  return host
}

/** A video for views: ids 1-3, two uuids, VOD of various durations or live; odd fields now and then. */
function viewVideo(r, field) {
  return {
    id: field(1 + H.below(r, 3)),
    uuid: field(H.pick(r, H.UUIDS)),
    remote: field(r() < 0.3),
    duration: field(H.pick(r, [null, undefined, 0, 3, 5, 9.5, 10, 60, 3600])),
    isLive: field(r() < 0.1),
  }
}

const random = (r) => (r() < 0.05 ? H.oddValue(r) : undefined)

/** `processHourlyViewStats(hour)` arguments: the current hour, any hour, none, or odd. */
function hourArgs(r) {
  const roll = r()
  if (roll < 0.4) return [new Date().getHours()]
  if (roll < 0.6) return [H.below(r, 24)]
  if (roll < 0.7) return []
  if (roll < 0.8) return [undefined]
  return [H.oddValue(r)]
}

/**
 * Drains hour `args[0]` (default: the previous hour) through `call` and checks the report and
 * the host's rows against the model.
 */
async function hourlyDrain(out, what, r, host, views, call) {
  const args = hourArgs(r)
  const valid = H.validHour(args[0])
  host.failing = new Set(r() < 0.3 ? [1 + H.below(r, 3)] : [])
  const rows = host.hourly.length
  const t0 = Date.now()
  const { ok, value: report } = await out.promised(what, valid, () => call(...args))
  if (!ok) return 0
  const hours = H.nullish(args[0]) ? [...new Set([t0, Date.now()].map((t) => (M.localHour(t) + 23) % 24))] : [args[0]]
  // An hour boundary crossed during a defaulted call: the report tells which hour was drained.
  const hour = hours.find((h) => previewHourlyDrain(views, h, host.failing) === JSON.stringify(report)) ?? hours[0]
  const expected = views.drainHour(hour, host.failing)
  out.check(JSON.stringify(report) === JSON.stringify(expected), () => `${what}(${hour}) reported ${JSON.stringify(report)}, model ${JSON.stringify(expected)}`)
  for (const row of host.hourly.slice(rows)) {
    const start = row.startDate.getTime()
    out.check(row.startDate.getHours() === hour && row.endDate.getTime() - start === 3_599_999 && start <= Date.now(), `${what}: row dates of hour ${hour}`)
  }
  return expected.failed
}

/** The report a drain of `hour` would give, without changing the model. */
function previewHourlyDrain(views, hour, failing) {
  return JSON.stringify(M.ViewsModel.drain(new Map(views.hourly.get(hour) ?? []), failing))
}

async function bufferDrain(out, what, r, host, views, call) {
  host.failing = new Set(r() < 0.3 ? [1 + H.below(r, 3)] : [])
  const { ok, value: report } = await out.promised(what, true, () => call(random(r)))
  if (!ok) return 0
  const expected = views.drainBuffer(host.failing)
  out.check(JSON.stringify(report) === JSON.stringify(expected), () => `${what} reported ${JSON.stringify(report)}, model ${JSON.stringify(expected)}`)
  return expected.failed
}

/** After close: one View per counted view, without viewersCount, with a random UUIDv4 identifier. */
async function expectViewActivities(host, counted) {
  const plain = () => host.sent.filter((v) => v.viewersCount === undefined)
  await waitFor(() => plain().length >= counted, { timeout: 10000 })
  expect(plain().length).toBe(counted)
  for (const view of plain()) expect(view.viewerIdentifier).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
}

test(`VideoViews: addLocalView, addRemoteView, processViewsBuffer, processHourlyViewStats (seed ${SEED})`, async () => {
  const r = H.prng(SEED ^ 0x1111)
  const calls = share(0.3)
  const host = recordingHost()
  const webserverHost = uniqueHost()
  const prefix = `redis-${webserverHost}-`
  const countViewAfterMs = H.pick(r, [1000, 5000, 10000])
  const views = new native.VideoViews({ redis: redisSection(), webserverHost, autoStart: false, viewExpiration: VIEW_EXPIRATION, countViewAfter: countViewAfterMs, ...host })
  const model = new M.ViewsModel({ countViewAfterMs })
  const out = new H.Outcomes(SEED, 'VideoViews')
  let failedHostCalls = 0

  for (let i = 0; i < calls; i++) {
    const field = H.fieldOf(r, 0.05)
    const roll = r()
    if (roll < 0.9) {
      const value = H.hostileShape(r, { video: viewVideo(r, field), sessionId: field(`v-${H.below(r, 1500)}`), watchTime: field(H.below(r, 25)) }, ['video', 'sessionId', 'watchTime'])
      const f = H.isObject(value) ? H.readFields(value, ['video', 'sessionId', 'watchTime']) : null
      const video = f && H.videoForView(f.video)
      const valid = video !== null && H.validSession(f.sessionId) && H.validSeconds(f.watchTime)
      const key = valid ? model.decide(video, H.utf8(f.sessionId), f.watchTime) : null
      const t0 = Date.now()
      const { ok, value: counted } = await out.promised('addLocalView', valid, () => views.addLocalView(value))
      if (!ok) continue
      out.check(counted === (key !== null), () => `addLocalView counted ${counted}, model ${key !== null} (${JSON.stringify({ video, watchTime: f.watchTime })})`)
      if (key) model.countLocal(key, video, await M.hourOfCall(redis, prefix, model, video.id, t0, Date.now()))
    } else if (roll < 0.985) {
      const value = H.hostileShape(r, { video: viewVideo(r, field) }, ['video'])
      const video = H.isObject(value) ? H.videoInfo(H.readFields(value, ['video'])?.video) : null
      const t0 = Date.now()
      const { ok, value: answer } = await out.promised('addRemoteView', video !== null, () => views.addRemoteView(value))
      if (!ok) continue
      out.check(answer === undefined, 'addRemoteView resolves undefined')
      model.add(video, await M.hourOfCall(redis, prefix, model, video.id, t0, Date.now()))
    } else if (roll < 0.99) {
      failedHostCalls += await bufferDrain(out, 'processViewsBuffer', r, host, model, (arg) => views.processViewsBuffer(arg))
    } else if (roll < 0.995) {
      failedHostCalls += await hourlyDrain(out, 'processHourlyViewStats', r, host, model, (...args) => views.processHourlyViewStats(...args))
    } else {
      const { value: health } = await out.promised('getInternalStats', true, () => views.getInternalStats(random(r)))
      const expected = { pendingViews: 0, callbackErrors: failedHostCalls, redisErrors: 0 }
      out.check(JSON.stringify(health) === JSON.stringify(expected), () => `getInternalStats: ${JSON.stringify(health)}, model ${JSON.stringify(expected)}`)
    }
  }
  console.log(`seed ${SEED}: ${out.summary()}, ${model.counted} views counted`)
  expect(out.codeList().filter((c) => c !== 'INVALID_ARGUMENT')).toEqual([])
  await M.expectViewsInRedis(redis, prefix, model, VIEW_EXPIRATION)
  await views.close()
  await expectViewActivities(host, model.counted)
}, 120000)

/** Reads a processLocalView request as the addon does; `null` when it must be rejected (B5 included). */
function localViewRequest(video, f, trust) {
  if (!video || !H.validSeconds(f.currentTime) || !H.validViewSession(f.sessionId, trust)) return null
  if (!H.validViewEvent(f.viewEvent) || !H.optionalString(f.ip, 128)) return null
  if (!video.isLive && video.duration !== null && f.currentTime > video.duration) return null
  return { video, t: f.currentTime, sessionId: f.sessionId, seek: f.viewEvent === 'seek', ip: f.ip }
}

const LOCAL_VIEW_FIELDS = ['video', 'currentTime', 'ip', 'sessionId', 'viewEvent']

/** One manager under test with the model of everything it holds. */
function managerUnderTest(r, { trust, federationV2, salt }) {
  const host = recordingHost()
  const webserverHost = uniqueHost()
  const manager = new native.VideoViewsManager({
    redis: redisSection(),
    webserverHost,
    autoStart: false,
    trustViewerSessionId: trust,
    identitySalt: salt,
    viewersFederationV2: federationV2,
    viewerCounterLifetime: '1 day',
    viewExpiration: VIEW_EXPIRATION,
    host,
  })
  return {
    manager,
    bound: manager.processLocalViewFunction(),
    host,
    prefix: `redis-${webserverHost}-`,
    trust,
    salt: salt ?? '[object Object]',
    sections: new M.SectionsModel(),
    dirty: new Set(),
    counters: new M.CountersModel({ federationV2 }),
    views: new M.ViewsModel(),
    identities: new Set(),
    failedHostCalls: 0,
    federatedTotals: 0,
  }
}

/** Applies a valid processLocalView to the model (B4 order); returns the expected answer and the dedup key. */
function applyLocalView(m, req) {
  const identity = H.viewerIdentity(req.sessionId, m.trust, req.ip, m.salt)
  m.identities.add(identity)
  const key = `${identity}-${req.video.id}`
  if ((m.sections.viewers.get(key)?.length ?? 0) < m.sections.max) m.dirty.add(key)
  m.sections.heartbeat(key, req.t, req.seek)
  const successViewer = m.counters.addLocal({ id: req.video.id, uuid: req.video.uuid, remote: req.video.remote }, identity)
  const viewKey = m.views.decide(req.video, identity, m.sections.watchTime(key))
  return { expected: { successView: viewKey !== null, successViewer }, viewKey }
}

async function localView(out, m, what, valid, req, call) {
  const t0 = Date.now()
  const { ok, value } = await out.promised(what, valid, call)
  if (!ok) return
  const { expected, viewKey } = applyLocalView(m, req)
  out.check(JSON.stringify(value) === JSON.stringify(expected), () => `${what} answered ${JSON.stringify(value)}, model ${JSON.stringify(expected)} (${JSON.stringify(req)})`)
  if (viewKey) m.views.countLocal(viewKey, req.video, await M.hourOfCall(redis, m.prefix, m.views, req.video.id, t0, Date.now()))
}

/** processRemoteView's rules: a viewer with `viewerExpires`, else a view. */
async function remoteView(out, m, r) {
  const field = H.fieldOf(r, 0.06)
  const value = H.hostileShape(
    r,
    {
      video: { id: field(1 + H.below(r, 3)), uuid: field(H.pick(r, H.UUIDS)), remote: field(r() < 0.5) },
      viewerId: field(H.pick(r, VIEWER_IDS)),
      viewerExpires: r() < 0.3 ? undefined : H.expiresValue(r, Date.now()),
      viewerResultCounter: field(r() < 0.5 ? undefined : H.pick(r, [0, 1, 7, 1e12, 1e12 + 1, -1, 2.5, null])),
    },
    ['video', 'viewerId', 'viewerExpires', 'viewerResultCounter'],
  )
  const first = H.isObject(value) ? H.readFields(value, ['viewerExpires']) : null
  let apply = null
  if (first && H.nullish(first.viewerExpires)) {
    const video = H.videoInfo(H.readFields(value, ['video'])?.video)
    if (video) apply = async (t0) => m.views.add(video, await M.hourOfCall(redis, m.prefix, m.views, video.id, t0, Date.now()))
  } else if (first) {
    const f = H.readFields(value, ['video', 'viewerId', 'viewerExpires'])
    const video = f && H.videoInfo(f.video)
    const expires = f && H.timestampMs(f.viewerExpires)
    if (video && H.validViewerId(f.viewerId) && expires !== null) {
      if (!video.remote) apply = () => m.counters.addRemoteOnLocal(video, f.viewerId, expires)
      else {
        const c = H.readFields(value, ['viewerResultCounter'])
        if (c && H.validResultCounter(c.viewerResultCounter)) apply = () => m.counters.addRemoteOnRemote(video, f.viewerId, expires, c.viewerResultCounter)
      }
    }
  }
  const t0 = Date.now()
  const { ok, value: answer } = await out.promised('processRemoteView', apply !== null, () => m.manager.processRemoteView(value))
  if (!ok) return
  out.check(answer === undefined, 'processRemoteView resolves undefined')
  await apply(t0)
}

function scopesValue(r) {
  const field = H.fieldOf(r, 0.1)
  const value = H.hostileShape(r, { viewerScope: field(H.pick(r, ['local', 'remote'])), videoScope: field(H.pick(r, ['local', 'remote'])) }, ['viewerScope', 'videoScope'])
  const f = H.isObject(value) ? H.readFields(value, ['viewerScope', 'videoScope']) : null
  return { value, scopes: f && H.validScope(f.viewerScope) && H.validScope(f.videoScope) ? f : null }
}

function videoIdValue(r) {
  const value = r() < 0.15 ? H.oddValue(r) : H.hostileShape(r, { id: r() < 0.1 ? H.oddValue(r) : 1 + H.below(r, 4) }, ['id'])
  const id = H.isObject(value) ? H.readFields(value, ['id'])?.id : undefined
  return { value, id: H.validId(id) ? id : null }
}

test(`VideoViewsManager: processLocalView (object, native object path, Args), processRemoteView, totals, watch time, jobs (seed ${SEED})`, async () => {
  const r = H.prng(SEED ^ 0x2222)
  const calls = share(0.3)
  const all = [
    managerUnderTest(r, { trust: true, federationV2: true }),
    managerUnderTest(r, { trust: false, federationV2: false, salt: 'fuzz-salt' }),
  ]
  const out = new H.Outcomes(SEED, 'VideoViewsManager')
  const nativeObjectPath = binding.VideoViewsManager.prototype.processLocalView

  for (let i = 0; i < calls; i++) {
    const m = all[H.below(r, 2)]
    const field = H.fieldOf(r, 0.06)
    const roll = r()
    if (roll < 0.7) {
      const fields = {
        video: viewVideo(r, field),
        currentTime: field(H.below(r, 40)),
        ip: field(H.pick(r, IPS)),
        sessionId: field(r() < 0.2 ? undefined : `m-${H.below(r, 400)}`),
        viewEvent: field(r() < 0.1 ? 'seek' : undefined),
      }
      if (roll < 0.15) {
        // The positional entry, called directly with the fields as arguments.
        const v = fields.video
        const req = localViewRequest(H.videoForView(v), fields, m.trust)
        const args = [v.id, v.uuid, v.remote, v.duration, v.isLive, fields.currentTime, fields.ip, fields.sessionId, fields.viewEvent]
        // Every other call through the engine-bound function (processLocalViewFunction).
        const bound = i % 2 === 1
        const what = bound ? 'processLocalViewFunction()' : 'processLocalViewArgs'
        await localView(out, m, what, req !== null, req, () => (bound ? m.bound(...args) : m.manager.processLocalViewArgs(...args)))
      } else {
        const value = H.hostileShape(r, fields, LOCAL_VIEW_FIELDS)
        // Untrusted session ids are not read at all (a throwing getter there changes nothing).
        const read = m.trust ? LOCAL_VIEW_FIELDS : LOCAL_VIEW_FIELDS.filter((name) => name !== 'sessionId')
        const f = H.isObject(value) ? H.readFields(value, read) : null
        const req = f && localViewRequest(H.videoForView(f.video), f, m.trust)
        const objectPath = roll < 0.3
        await localView(out, m, objectPath ? 'processLocalView (native object path)' : 'processLocalView', req !== null, req, () =>
          objectPath ? nativeObjectPath.call(m.manager, value) : m.manager.processLocalView(value),
        )
      }
    } else if (roll < 0.8) {
      await remoteView(out, m, r)
    } else if (roll < 0.85) {
      const { value, scopes } = scopesValue(r)
      const { ok, value: n } = out.sync('getTotalViewers', scopes !== null, () => m.manager.getTotalViewers(value))
      if (ok) out.check(n === m.counters.totals[scopes.viewerScope][scopes.videoScope], () => `getTotalViewers ${JSON.stringify(scopes)} = ${n}`)
    } else if (roll < 0.9) {
      const { value, id } = videoIdValue(r)
      const { ok, value: n } = out.sync('getTotalViewersOf', id !== null, () => m.manager.getTotalViewersOf(value))
      if (ok) out.check(n === m.counters.totalOf(id), () => `getTotalViewersOf(${id}) = ${n}, model ${m.counters.totalOf(id)}`)
    } else if (roll < 0.97) {
      const videoId = field(1 + H.below(r, 3))
      const session = field(r() < 0.7 && m.identities.size ? H.pick(r, [...m.identities]) : `m-${H.below(r, 400)}`)
      const valid = H.validId(videoId) && H.validSession(session)
      const { ok, value: n } = await out.promised('getWatchTime', valid, () => m.manager.getWatchTime(videoId, session))
      if (ok) out.check(n === m.sections.watchTime(`${H.utf8(session)}-${videoId}`), () => `getWatchTime(${videoId}, ${session}) = ${n}`)
    } else if (roll < 0.975) {
      m.failedHostCalls += await bufferDrain(out, 'processViewsBuffer', r, m.host, m.views, (arg) => m.manager.processViewsBuffer(arg))
    } else if (roll < 0.98) {
      m.failedHostCalls += await hourlyDrain(out, 'processHourlyViewStats', r, m.host, m.views, (...args) => m.manager.processHourlyViewStats(...args))
    } else if (roll < 0.985) {
      const { value } = await out.promised('syncRedisWrites', true, () => m.manager.syncRedisWrites(random(r)))
      out.check(value.written === m.dirty.size, () => `syncRedisWrites wrote ${value.written}, model ${m.dirty.size}`)
      m.dirty.clear()
    } else if (roll < 0.99) {
      const { value } = await out.promised('processViewerStats', true, () => m.manager.processViewerStats(random(r)))
      const expected = { scanned: m.sections.viewers.size, expired: 0, persisted: 0, discarded: 0, failed: 0, orphansRemoved: 0 }
      out.check(JSON.stringify(value) === JSON.stringify(expected), () => `processViewerStats ${JSON.stringify(value)}, model ${JSON.stringify(expected)}`)
      m.dirty.clear()
    } else if (roll < 0.995) {
      const { value } = await out.promised('cleanViewerCounters', true, () => m.manager.cleanViewerCounters(random(r)))
      const expected = m.counters.clean(Date.now(), hostVideo)
      m.federatedTotals += expected.federated
      out.check(JSON.stringify(value) === JSON.stringify(expected), () => `cleanViewerCounters ${JSON.stringify(value)}, model ${JSON.stringify(expected)}`)
    } else {
      const { value: health } = out.sync('getInternalStats', true, () => m.manager.getInternalStats(random(r)))
      const expected = { cachedViewers: m.sections.viewers.size, pendingWrites: m.dirty.size, inFlight: 0, viewers: m.counters.ids.size, pendingViews: 0, redisErrors: 0, callbackErrors: m.failedHostCalls, droppedHeartbeats: 0 }
      const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, health[k]]))
      out.check(JSON.stringify(actual) === JSON.stringify(expected), () => `getInternalStats ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`)
    }
  }
  console.log(`seed ${SEED}: ${out.summary()}, ${all.map((m) => m.views.counted).join('+')} views counted`)
  expect(out.codeList().filter((c) => c !== 'INVALID_ARGUMENT')).toEqual([])

  for (const m of all) {
    await m.manager.syncRedisWrites()
    await M.expectStatsInRedis(redis, m.prefix, m.sections)
    await M.expectViewsInRedis(redis, m.prefix, m.views, VIEW_EXPIRATION)
    for (const [id, { total }] of m.counters.videos) expect({ id, total: m.manager.getTotalViewersOf({ id }) }).toEqual({ id, total })
    for (const viewer of ['local', 'remote']) {
      for (const video of ['local', 'remote']) expect(m.manager.getTotalViewers({ viewerScope: viewer, videoScope: video })).toBe(m.counters.totals[viewer][video])
    }
    await m.manager.close()
    await expectViewActivities(m.host, m.views.counted)
    // Viewer Views (viewersCount 1, B23) and, in v2, the totals of the cleanups (B21).
    const isTotal = (v) => m.counters.v2 && !v.video.remote
    const withCount = m.host.sent.filter((v) => v.viewersCount !== undefined)
    expect({ viewers: withCount.filter((v) => !isTotal(v)).length, totals: withCount.filter(isTotal).length }).toEqual({ viewers: m.counters.viewerViews, totals: m.federatedTotals })
  }
}, 120000)

/** `{ video, viewerId, viewerExpires, viewerResultCounter }` of a remote viewer, hostile now and then. */
function remoteViewerValue(r) {
  const field = H.fieldOf(r, 0.06)
  const value = H.hostileShape(
    r,
    {
      video: { id: field(1 + H.below(r, 3)), uuid: field(H.pick(r, H.UUIDS)), remote: field(r() < 0.5) },
      viewerId: field(H.pick(r, VIEWER_IDS)),
      viewerExpires: H.expiresValue(r, Date.now()),
      viewerResultCounter: field(r() < 0.5 ? undefined : H.pick(r, [0, 1, 7, 1e12, 1e12 + 1, -1, 2.5, null])),
    },
    ['video', 'viewerId', 'viewerExpires', 'viewerResultCounter'],
  )
  const f = H.isObject(value) ? H.readFields(value, ['video', 'viewerId', 'viewerExpires']) : null
  const video = f && H.videoInfo(f.video)
  const expires = f && H.timestampMs(f.viewerExpires)
  const ok = video && H.validViewerId(f.viewerId) && expires !== null
  return { value, read: ok ? { video, viewerId: f.viewerId, expires } : null }
}

test(`VideoViewerCounters: remote viewers, totals, native addLocalViewer and addLocalViewerArgs, cleanup (seed ${SEED})`, async () => {
  const r = H.prng(SEED ^ 0x3333)
  const calls = share(0.2)
  const host = recordingHost()
  const counters = new native.VideoViewerCounters({ autoStart: false, viewersFederationV2: false, viewerCounterLifetime: '1 day', ...host })
  const model = new M.CountersModel({ federationV2: false })
  const out = new H.Outcomes(SEED, 'VideoViewerCounters')
  const nativeObjectPath = binding.VideoViewerCounters.prototype.addLocalViewer
  const boundArgs = counters.addLocalViewerFunction()
  let federatedTotals = 0

  for (let i = 0; i < calls; i++) {
    const roll = r()
    if (roll < 0.25) {
      const { value, read } = remoteViewerValue(r)
      const { ok, value: added } = out.sync('addRemoteViewerOnLocalVideo', read !== null, () => counters.addRemoteViewerOnLocalVideo(value))
      if (ok) out.check(added === model.addRemoteOnLocal(read.video, read.viewerId, read.expires), 'addRemoteViewerOnLocalVideo: new or not, as the model')
    } else if (roll < 0.5) {
      const { value, read } = remoteViewerValue(r)
      const c = read && H.readFields(value, ['viewerResultCounter'])
      const valid = read !== null && c !== null && H.validResultCounter(c.viewerResultCounter)
      const { ok, value: added } = out.sync('addRemoteViewerOnRemoteVideo', valid, () => counters.addRemoteViewerOnRemoteVideo(value))
      if (ok) out.check(added === model.addRemoteOnRemote(read.video, read.viewerId, read.expires, c.viewerResultCounter), 'addRemoteViewerOnRemoteVideo: new or not, as the model')
    } else if (roll < 0.75) {
      const field = H.fieldOf(r, 0.06)
      const video = { id: field(1 + H.below(r, 3)), uuid: field(H.pick(r, H.UUIDS)), remote: field(r() < 0.5) }
      const sessionId = field(H.pick(r, H.SESSIONS))
      const args = roll < 0.6
      const value = args ? null : H.hostileShape(r, { video, sessionId }, ['video', 'sessionId'])
      const f = args ? { video, sessionId } : H.isObject(value) ? H.readFields(value, ['video', 'sessionId']) : null
      const info = f && H.videoInfo(f.video)
      const valid = info !== null && H.validSession(f.sessionId)
      // Every other positional call through the engine-bound function (addLocalViewerFunction).
      const bound = args && i % 2 === 1
      const what = bound ? 'addLocalViewerFunction()' : args ? 'addLocalViewerArgs' : 'addLocalViewer (native object path)'
      const { ok, value: added } = await out.promised(what, valid, () =>
        bound
          ? boundArgs(video.id, video.uuid, video.remote, sessionId)
          : args
            ? counters.addLocalViewerArgs(video.id, video.uuid, video.remote, sessionId)
            : nativeObjectPath.call(counters, value),
      )
      if (ok) out.check(added === model.addLocal(info, H.utf8(f.sessionId)), `${what}: new viewer or not, as the model`)
    } else if (roll < 0.87) {
      const { value, scopes } = scopesValue(r)
      const { ok, value: n } = out.sync('getTotalViewers', scopes !== null, () => counters.getTotalViewers(value))
      if (ok) out.check(n === model.totals[scopes.viewerScope][scopes.videoScope], () => `getTotalViewers ${JSON.stringify(scopes)} = ${n}`)
    } else if (roll < 0.995) {
      const { value, id } = videoIdValue(r)
      const { ok, value: n } = out.sync('getTotalViewersOf', id !== null, () => counters.getTotalViewersOf(value))
      if (ok) out.check(n === model.totalOf(id), () => `getTotalViewersOf(${id}) = ${n}, model ${model.totalOf(id)}`)
    } else if (roll < 0.998) {
      const { value } = await out.promised('cleanViewerCounters', true, () => counters.cleanViewerCounters(random(r)))
      const expected = model.clean(Date.now(), hostVideo)
      federatedTotals += expected.federated
      out.check(JSON.stringify(value) === JSON.stringify(expected), () => `cleanViewerCounters ${JSON.stringify(value)}, model ${JSON.stringify(expected)}`)
    } else {
      const { value: health } = out.sync('getInternalStats', true, () => counters.getInternalStats(random(r)))
      out.check(health.viewers === model.ids.size && health.callbackErrors === 0, () => `getInternalStats ${JSON.stringify(health)}, model viewers ${model.ids.size}`)
    }
  }
  console.log(`seed ${SEED}: ${out.summary()}`)
  expect(out.codeList().filter((c) => c !== 'INVALID_ARGUMENT')).toEqual([])
  for (const [id, { total }] of model.videos) expect({ id, total: counters.getTotalViewersOf({ id }) }).toEqual({ id, total })
  for (const viewer of ['local', 'remote']) {
    for (const video of ['local', 'remote']) expect(counters.getTotalViewers({ viewerScope: viewer, videoScope: video })).toBe(model.totals[viewer][video])
  }
  await counters.close()
  // v1: every local viewer is federated once (lifetime 1 day: no re-federation), no totals.
  expect(host.sent.length).toBe(model.viewerViews + federatedTotals)
}, 120000)

test(`VideoViewerStats: native addLocalViewer and addLocalViewerArgs, getWatchTime, sync, processing (seed ${SEED})`, async () => {
  const r = H.prng(SEED ^ 0x4444)
  const calls = share(0.15)
  const webserverHost = uniqueHost()
  const stats = new native.VideoViewerStats({ redis: redisSection(), webserverHost, autoStart: false, saveViewerStats: async () => {} })
  const sections = new M.SectionsModel()
  const dirty = new Set()
  const out = new H.Outcomes(SEED, 'VideoViewerStats')
  const nativeObjectPath = binding.VideoViewerStats.prototype.addLocalViewer
  const boundArgs = stats.addLocalViewerFunction()

  for (let i = 0; i < calls; i++) {
    const roll = r()
    const field = H.fieldOf(r, 0.06)
    if (roll < 0.8) {
      const video = { id: field(1 + H.below(r, 3)), uuid: field(H.pick(r, [...H.UUIDS, undefined, null])) }
      const f = { video, currentTime: field(H.below(r, 60)), ip: field(H.pick(r, IPS)), sessionId: field(H.pick(r, H.SESSIONS)), viewEvent: field(r() < 0.1 ? 'seek' : undefined) }
      const args = roll < 0.4
      const value = args ? null : H.hostileShape(r, f, LOCAL_VIEW_FIELDS)
      const g = args ? f : H.isObject(value) ? H.readFields(value, LOCAL_VIEW_FIELDS) : null
      const v = g && H.isObject(g.video) ? H.readFields(g.video, ['id', 'uuid']) : null
      const valid =
        v !== null && H.validId(v.id) && H.optionalString(v.uuid, 128) && H.validSeconds(g.currentTime) && H.validSession(g.sessionId) && H.validViewEvent(g.viewEvent) && H.optionalString(g.ip, 128)
      // Every other positional call through the engine-bound function (addLocalViewerFunction).
      const bound = args && i % 2 === 1
      const what = bound ? 'addLocalViewerFunction()' : args ? 'addLocalViewerArgs' : 'addLocalViewer (native object path)'
      const { ok, value: answer } = await out.promised(what, valid, () =>
        bound
          ? boundArgs(video.id, video.uuid, f.currentTime, f.ip, f.sessionId, f.viewEvent)
          : args
            ? stats.addLocalViewerArgs(video.id, video.uuid, f.currentTime, f.ip, f.sessionId, f.viewEvent)
            : nativeObjectPath.call(stats, value),
      )
      if (!ok) continue
      out.check(answer === undefined, `${what} answers undefined`)
      const key = `${H.utf8(g.sessionId)}-${v.id}`
      if ((sections.viewers.get(key)?.length ?? 0) < sections.max) dirty.add(key)
      sections.heartbeat(key, g.currentTime, g.viewEvent === 'seek')
    } else if (roll < 0.97) {
      const videoId = field(1 + H.below(r, 3))
      const session = field(H.pick(r, H.SESSIONS))
      const { ok, value: n } = await out.promised('getWatchTime', H.validId(videoId) && H.validSession(session), () => stats.getWatchTime(videoId, session))
      if (ok) out.check(n === sections.watchTime(`${H.utf8(session)}-${videoId}`), () => `getWatchTime(${videoId}, ${session}) = ${n}`)
    } else if (roll < 0.98) {
      const { value } = await out.promised('syncRedisWrites', true, () => stats.syncRedisWrites(random(r)))
      out.check(value.written === dirty.size, () => `syncRedisWrites wrote ${value.written}, model ${dirty.size}`)
      dirty.clear()
    } else if (roll < 0.985) {
      const { value } = await out.promised('processViewerStats', true, () => stats.processViewerStats(random(r)))
      const expected = { scanned: sections.viewers.size, expired: 0, persisted: 0, discarded: 0, failed: 0, orphansRemoved: 0 }
      out.check(JSON.stringify(value) === JSON.stringify(expected), () => `processViewerStats ${JSON.stringify(value)}, model ${JSON.stringify(expected)}`)
      dirty.clear()
    } else if (roll < 0.995) {
      const { value: health } = out.sync('getInternalStats', true, () => stats.getInternalStats(random(r)))
      const expected = { cachedViewers: sections.viewers.size, pendingWrites: dirty.size, inFlight: 0, redisErrors: 0, callbackErrors: 0, droppedHeartbeats: 0 }
      const actual = Object.fromEntries(Object.keys(expected).map((k) => [k, health[k]]))
      out.check(JSON.stringify(actual) === JSON.stringify(expected), () => `getInternalStats ${JSON.stringify(actual)}, model ${JSON.stringify(expected)}`)
    } else {
      const { value } = out.sync('getNativeMemory', true, () => native.getNativeMemory(random(r), random(r)))
      out.check(typeof value.heapInUse === 'number' && value.heapInUse > 0, 'getNativeMemory().heapInUse')
    }
  }
  console.log(`seed ${SEED}: ${out.summary()}`)
  expect(out.codeList().filter((c) => c !== 'INVALID_ARGUMENT')).toEqual([])
  await stats.syncRedisWrites()
  await M.expectStatsInRedis(redis, `redis-${webserverHost}-`, sections)
  await stats.close()
}, 120000)

// ---- Constructors: random options, each must construct or throw INVALID_ARGUMENT synchronously ----

const MAX_SAFE = Number.MAX_SAFE_INTEGER
/** Option values by kind: `[value, valid]`. Redis options never point at 6379. */
function optionKinds() {
  const section = redisSection()
  const fn = [[() => {}, true], [async () => {}, true], [function named() {}, true], [undefined, false], [null, false], ['fn', false], [{}, false], [5, false]]
  const int = (max) => [[undefined, true], [null, true], [1, true], [max, true], [0, false], [max + 1, false], [1.5, false], [NaN, false], ['8', false], [-1, false]]
  const sentinel = (fields) => ({ ...section, sentinel: { enabled: true, master_name: 'm', sentinels: [{ hostname: '127.0.0.1', port: 1 }], ...fields } })
  return {
    duration: [
      ...[undefined, null, 1000, 60000, '10 seconds', '1 hour', '2 minutes', '1.5 hours', ' 5000 ', MAX_SAFE].map((v) => [v, true]),
      ...[0, -1, NaN, Infinity, 0.5, 2 ** 53, '0 seconds', '10 parsecs', '', 'abc', true, {}, 'x'.repeat(65)].map((v) => [v, false]),
    ],
    bool: [[undefined, true], [null, true], [true, true], [false, true], [0, false], [1, false], ['true', false], [{}, false]],
    fn,
    logger: [
      ...[undefined, null, {}, { info() {} }, { level: 'warn', error() {}, warn: null }].map((v) => [v, true]),
      ...['log', { debug: 5 }, { level: 5 }, H.throwingGetter({}, 'warn')].map((v) => [v, false]),
    ],
    webserverHost: [...['fuzz.example', 'x'.repeat(512), 'é:9000'].map((v) => [v, true]), ...['', null, undefined, 5, 'x'.repeat(513)].map((v) => [v, false])],
    redis: [
      ...[section, { ...section, db: 3 }, { ...section, connectTimeout: '1 second' }, { hostname: '127.0.0.1', port: 1 }, { socket: '/nonexistent/redis.sock' }, { ...section, sentinel: { enabled: false } }, sentinel({})].map((v) => [v, true]),
      ...[
        'redis', 5, [], { hostname: '127.0.0.1', port: 0 }, { ...section, port: 70000 }, { ...section, db: -1 }, { ...section, db: 1.5 }, { hostname: 5 }, { port: section.port }, { hostname: '' },
        sentinel({ enable_tls: true }), sentinel({ master_name: '' }), sentinel({ sentinels: [] }), sentinel({ sentinels: 'x' }), sentinel({ sentinels: [{ port: 1 }] }), { ...section, connectTimeout: 0 }, { ...section, sentinel: 'x' },
      ].map((v) => [v, false]),
    ],
    geoIp: [
      ...[undefined, null, {}, { countryDatabasePath: '/nonexistent.mmdb' }, { cityDatabasePath: null }].map((v) => [v, true]),
      ...[5, 'x', { countryDatabasePath: 5 }, { cityDatabasePath: 'x'.repeat(4097) }].map((v) => [v, false]),
    ],
    salt: [...[undefined, null, '', 'salt', 'x'.repeat(1024)].map((v) => [v, true]), ...[5, 'x'.repeat(1025), {}].map((v) => [v, false])],
    int100k: int(100_000),
    int1k: int(1_000),
    int2p40: int(2 ** 40),
  }
}

const COMMON = { logger: 'logger', redis: 'redis', webserverHost: 'webserverHost', autoStart: 'bool' }
const STATS = { geoIp: 'geoIp', viewerStatsLifetime: 'duration', syncRedisInterval: 'duration', maxWatchSections: 'int100k', callbackTimeout: 'duration', processConcurrency: 'int1k', maxPendingWrites: 'int2p40' }
const COUNTERS = { viewerCounterLifetime: 'duration', viewersFederationV2: 'bool', callbackTimeout: 'duration' }
const VIEWS = { viewExpiration: 'duration', countViewAfter: 'duration', localBufferUpdateInterval: 'duration', callbackTimeout: 'duration', drainConcurrency: 'int1k' }
const CALLBACKS = { saveViewerStats: 'fn', loadVideo: 'fn', notifyClients: 'fn', sendView: 'fn', incrementVideoViews: 'fn', saveHourlyViews: 'fn' }
const pickKeys = (from, names) => Object.fromEntries(names.map((n) => [n, from[n]]))

/** Each class: the options it reads (name -> kind), at the top level and under `host` (manager). */
const CONSTRUCTORS = {
  VideoViewerStats: { options: { ...COMMON, ...STATS, saveViewerStats: 'fn' } },
  VideoViewerCounters: { options: { logger: 'logger', autoStart: 'bool', ...COUNTERS, ...pickKeys(CALLBACKS, ['sendView', 'loadVideo', 'notifyClients']) } },
  VideoViews: { options: { ...COMMON, ...VIEWS, ...pickKeys(CALLBACKS, ['sendView', 'incrementVideoViews', 'saveHourlyViews']) } },
  VideoViewsManager: { options: { ...COMMON, ...STATS, ...COUNTERS, ...VIEWS, identitySalt: 'salt', trustViewerSessionId: 'bool' }, host: CALLBACKS },
}

/** Valid options of `spec`'s kinds, then 0-2 of them replaced by a random value of their kind. */
function randomOptions(r, kinds, names) {
  const options = {}
  for (const [name, kind] of Object.entries(names)) {
    const valid = kinds[kind].filter(([, ok]) => ok)
    options[name] = name === 'redis' ? kinds.redis[0][0] : name === 'webserverHost' ? uniqueHost() : name === 'autoStart' ? false : H.pick(r, valid)[0]
  }
  for (let n = H.below(r, 3); n > 0; n--) {
    const [name, kind] = H.pick(r, Object.entries(names))
    options[name] = H.pick(r, kinds[kind])[0]
  }
  const valid = Object.entries(names).every(([name, kind]) => kinds[kind].some(([v, ok]) => ok && Object.is(v, options[name])) || (name === 'webserverHost' && typeof options[name] === 'string' && options[name].startsWith('test-')))
  return { options, valid }
}

test(`constructors: random options construct or throw INVALID_ARGUMENT synchronously (seed ${SEED})`, async () => {
  const r = H.prng(SEED ^ 0x5555)
  const kinds = optionKinds()
  const out = new H.Outcomes(SEED, 'constructors')
  const perClass = share(0.004)
  for (const [name, spec] of Object.entries(CONSTRUCTORS)) {
    for (let i = 0; i < perClass; i++) {
      let { options, valid } = randomOptions(r, kinds, spec.options)
      if (spec.host) {
        const host = randomOptions(r, kinds, spec.host)
        options.host = H.hostileShape(r, host.options, Object.keys(spec.host))
        const hostFields = H.isObject(options.host) ? H.readFields(options.host, Object.keys(spec.host)) : null
        valid = valid && hostFields !== null && Object.entries(spec.host).every(([n, kind]) => kinds[kind].some(([v, ok]) => ok && v === hostFields[n]))
      }
      const value = H.hostileShape(r, options, Object.keys(spec.options))
      const read = H.isObject(value) ? H.readFields(value, [...Object.keys(spec.options), ...(spec.host ? ['host'] : [])]) : null
      valid = valid && read !== null && Object.keys(spec.options).every((n) => Object.is(read[n], options[n])) && (!spec.host || read.host === options.host)
      const { ok, value: instance } = out.sync(`new ${name}`, valid, () => new native[name](value))
      if (ok) await out.promised(`${name}.close`, true, () => instance.close())
    }
  }
  console.log(`seed ${SEED}: ${out.summary()}`)
  expect(out.codeList().filter((c) => c !== 'INVALID_ARGUMENT')).toEqual([])
}, 120000)
