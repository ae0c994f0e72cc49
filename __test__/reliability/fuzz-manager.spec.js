// Hostile input on VideoViewsManager (processLocalView by object, native object path and bound
// function, processRemoteView, totals, watch time, the jobs), as fuzz-all.spec.js does for the
// other engines: no crash, INVALID_ARGUMENT only, answers and final Redis state as the model's.
// FUZZ_SEED replays a run, FUZZ_CALLS scales it.
const native = require('../../index.js')
const binding = require('../../binding.js')
const { inspector, redisSection, uniqueHost } = require('../helpers/env')
const H = require('./fuzz-helpers')
const M = require('./fuzz-models')
const E = require('./fuzz-engines')

const { LOCAL_VIEW_FIELDS, scopesValue, videoIdValue, CALLS, SEED, share, VIEW_EXPIRATION, VIEWER_IDS, IPS, HOST_VIDEOS, hostVideo, recordingHost, viewVideo, random, hourArgs, hourlyDrain, previewHourlyDrain, bufferDrain, expectViewActivities } = E

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

/** Reads a processLocalView request as the addon does; `null` when it must be rejected (B5 included). */
function localViewRequest(video, f, trust) {
  if (!video || !H.validSeconds(f.currentTime) || !H.validViewSession(f.sessionId, trust)) return null
  if (!H.validViewEvent(f.viewEvent) || !H.optionalString(f.ip, 128)) return null
  if (!video.isLive && video.duration !== null && f.currentTime > video.duration) return null
  return { video, t: f.currentTime, sessionId: f.sessionId, seek: f.viewEvent === 'seek', ip: f.ip }
}


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



test(`VideoViewsManager: processLocalView (object, native object path, bound function), processRemoteView, totals, watch time, jobs (seed ${SEED})`, async () => {
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
        // The others through the JS wrapper, whose reader is compiled from requestFields().
        const what = bound ? 'processLocalViewFunction()' : 'processLocalView (JS wrapper, plain object)'
        await localView(out, m, what, req !== null, req, () => (bound ? m.bound(...args) : m.manager.processLocalView(fields)))
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
      const expected = { scanned: m.sections.viewers.size, expired: 0, persisted: 0, discarded: 0, failed: 0, orphansRemoved: 0, skipped: false }
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