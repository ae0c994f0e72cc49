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
      const key = valid ? model.decide(video, f.sessionId, f.watchTime) : null
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
