// Hostile input on every exported method (binding.d.ts) that fuzz.spec.js does not cover, and on
// the native entries behind the JS wrapper (the object paths and the engine-bound functions):
// VideoViews, the rest of VideoViewerCounters and VideoViewerStats, the four constructors and
// getNativeMemory (the manager: fuzz-manager.spec.js). For each call: no crash, every failure is
// an INVALID_ARGUMENT TypeError or RangeError, a call succeeds exactly when the model says it is
// valid, its answer is the model's; and at the end Redis (dedup keys, buffer, hourly counters,
// viewer stats) and the counters hold exactly the model's state. FUZZ_SEED replays a run,
// FUZZ_CALLS scales it.
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

test(`VideoViewerCounters: remote viewers, totals, native addLocalViewer, the JS wrapper and the bound function, cleanup (seed ${SEED})`, async () => {
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
      const what = bound ? 'addLocalViewerFunction()' : args ? 'addLocalViewer (JS wrapper, plain object)' : 'addLocalViewer (native object path)'
      const { ok, value: added } = await out.promised(what, valid, () =>
        bound
          ? boundArgs(video.id, video.uuid, video.remote, sessionId)
          : args
            ? counters.addLocalViewer({ video, sessionId })
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

test(`VideoViewerStats: native addLocalViewer, the JS wrapper and the bound function, getWatchTime, sync, processing (seed ${SEED})`, async () => {
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
      const what = bound ? 'addLocalViewerFunction()' : args ? 'addLocalViewer (JS wrapper, plain object)' : 'addLocalViewer (native object path)'
      const { ok, value: answer } = await out.promised(what, valid, () =>
        bound
          ? boundArgs(video.id, video.uuid, f.currentTime, f.ip, f.sessionId, f.viewEvent)
          : args
            ? stats.addLocalViewer(f)
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
      const expected = { scanned: sections.viewers.size, expired: 0, persisted: 0, discarded: 0, failed: 0, orphansRemoved: 0, skipped: false }
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
      ...[section, { ...section, db: 3 }, { ...section, connectTimeout: '1 second' }, { hostname: '127.0.0.1', port: 1 }, { socket: '/nonexistent/redis.sock' }, { ...section, sentinel: { enabled: false } }, sentinel({}), sentinel({ enable_tls: true }), { ...section, enable_tls: true, tls_settings: { reject_unauthorized: false } }, { ...section, enable_tls: false, tls_settings: { ca: 5 } }].map((v) => [v, true]),
      ...[
        'redis', 5, [], { hostname: '127.0.0.1', port: 0 }, { ...section, port: 70000 }, { ...section, db: -1 }, { ...section, db: 1.5 }, { hostname: 5 }, { port: section.port }, { hostname: '' },
        sentinel({ enable_tls: true, tls_settings: { ca: '/nonexistent/ca.pem' } }), { ...section, enable_tls: true, tls_settings: { cert: '-----BEGIN CERTIFICATE-----' } }, { ...section, enable_tls: 'yes' }, sentinel({ master_name: '' }), sentinel({ sentinels: [] }), sentinel({ sentinels: 'x' }), sentinel({ sentinels: [{ port: 1 }] }), { ...section, connectTimeout: 0 }, { ...section, sentinel: 'x' },
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
