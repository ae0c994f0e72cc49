// What the fuzz suites of the engines share (fuzz-all.spec.js, fuzz-manager.spec.js): the call
// budget and seed, the recording host, hostile video and hour values, and the drain checks.
const native = require('../../index.js')
const binding = require('../../binding.js')
const { waitFor } = require('../helpers/env')
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

const LOCAL_VIEW_FIELDS = ['video', 'currentTime', 'ip', 'sessionId', 'viewEvent']

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

module.exports = { LOCAL_VIEW_FIELDS, scopesValue, videoIdValue, CALLS, SEED, share, VIEW_EXPIRATION, VIEWER_IDS, IPS, HOST_VIDEOS, hostVideo, recordingHost, viewVideo, random, hourArgs, hourlyDrain, previewHourlyDrain, bufferDrain, expectViewActivities }
