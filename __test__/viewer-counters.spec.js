// VideoViewerCounters: the four cases of the viewers federation protocol under v1 and v2, dedup,
// replacement, expiry and cleanup notifications, scope totals, callback failures, input
// validation and flat per-join cost.
const { VideoViewerCounters } = require('../index.js')
const { recordingLogger, sleep, waitFor } = require('./helpers/env')

const LOCAL = { id: 1, uuid: '11111111-1111-4111-8111-111111111111', remote: false }
const REMOTE = { id: 2, uuid: '22222222-2222-4222-8222-222222222222', remote: true }
const videos = { 1: LOCAL, 2: REMOTE }

const instances = []
afterEach(async () => {
  await Promise.all(instances.splice(0).map((c) => c.close()))
})

function makeCounters(options = {}) {
  const sent = []
  const notified = []
  const counters = new VideoViewerCounters({
    viewerCounterLifetime: 400,
    viewersFederationV2: true,
    autoStart: false,
    loadVideo: async (id) => videos[id] ?? null,
    notifyClients: (video, total) => notified.push([video.id, total]),
    sendView: async (view) => {
      sent.push(view)
    },
    ...options,
  })
  instances.push(counters)
  return { counters, sent, notified }
}

const lastNotification = (notified, id) => notified.filter(([v]) => v === id).at(-1)?.[1]

describe.each([
  ['v1', false],
  ['v2', true],
])('federation protocol %s', (_name, v2) => {
  test('case 4: local view on a local video adds the viewer; federated one by one only in v1', async () => {
    const { counters, sent, notified } = makeCounters({ viewersFederationV2: v2 })
    expect(await counters.addLocalViewer({ video: LOCAL, sessionId: 'alice' })).toBe(true)
    expect(await counters.addLocalViewer({ video: LOCAL, sessionId: 'alice' })).toBe(false)
    expect(await counters.addLocalViewer({ video: LOCAL, sessionId: 'bob' })).toBe(true)
    expect(counters.getTotalViewersOf(LOCAL)).toBe(2)
    await waitFor(() => lastNotification(notified, 1) === 2)
    await sleep(50)
    if (v2) {
      expect(sent).toEqual([])
    } else {
      // Views are sent concurrently: compare in a stable order.
      sent.sort((a, b) => a.viewerIdentifier.localeCompare(b.viewerIdentifier))
      expect(sent).toEqual([
        { video: LOCAL, viewersCount: 1, viewerIdentifier: `alice-${LOCAL.uuid}` },
        { video: LOCAL, viewersCount: 1, viewerIdentifier: `bob-${LOCAL.uuid}` },
      ])
    }
  })

  test('case 3: local view on a remote video is sent to the origin, at most every 0.75 x lifetime', async () => {
    const { counters, sent } = makeCounters({ viewersFederationV2: v2 })
    expect(await counters.addLocalViewer({ video: REMOTE, sessionId: 'carol' })).toBe(true)
    await waitFor(() => sent.length === 1)
    expect(sent[0]).toEqual({ video: REMOTE, viewersCount: 1, viewerIdentifier: `carol-${REMOTE.uuid}` })
    await counters.addLocalViewer({ video: REMOTE, sessionId: 'carol' })
    await sleep(100)
    expect(sent).toHaveLength(1)
    await sleep(250) // > 0.75 x 400 ms since the first send
    await counters.addLocalViewer({ video: REMOTE, sessionId: 'carol' })
    await waitFor(() => sent.length === 2)
    expect(counters.getTotalViewersOf(REMOTE)).toBe(1)
  })

  test('case 2: a View from federation on a local video adds one viewer, deduplicated, counter ignored', () => {
    const { counters } = makeCounters({ viewersFederationV2: v2 })
    const viewerExpires = new Date(Date.now() + 60_000)
    const viewerId = 'https://remote.example/accounts/peertube/views/videos/9/dave-xyz'
    expect(counters.addRemoteViewerOnLocalVideo({ video: LOCAL, viewerId, viewerExpires })).toBe(true)
    expect(counters.addRemoteViewerOnLocalVideo({ video: LOCAL, viewerId, viewerExpires })).toBe(false)
    expect(counters.getTotalViewersOf(LOCAL)).toBe(1)
    expect(counters.getTotalViewers({ viewerScope: 'remote', videoScope: 'local' })).toBe(1)
  })

  test('case 1: a View from federation on a remote video replaces all viewers by its counter', async () => {
    const { counters, notified } = makeCounters({ viewersFederationV2: v2 })
    const viewerExpires = new Date(Date.now() + 60_000).toISOString()
    await counters.addLocalViewer({ video: REMOTE, sessionId: 'erin' })
    counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: 'https://third.example/v/1', viewerExpires })
    expect(counters.getTotalViewersOf(REMOTE)).toBe(2)
    const total = `https://origin.example/accounts/peertube/views/videos/5/${REMOTE.uuid}`
    expect(counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: total, viewerExpires, viewerResultCounter: 12 })).toBe(true)
    expect(counters.getTotalViewersOf(REMOTE)).toBe(12)
    expect(counters.getInternalStats().viewers).toBe(1) // replaced ids are forgotten (Q9)
    await waitFor(() => lastNotification(notified, 2) === 12)
    // A counter of 0 is a valid total.
    counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: total, viewerExpires, viewerResultCounter: 0 })
    expect(counters.getTotalViewersOf(REMOTE)).toBe(0)
    // Without a counter: one viewer, deduplicated.
    expect(counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: 'https://third.example/v/2', viewerExpires })).toBe(true)
    expect(counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: 'https://third.example/v/2', viewerExpires })).toBe(false)
    expect(counters.getTotalViewersOf(REMOTE)).toBe(1)
  })

  test('cleanup: expired viewers go, every video is notified, v2 federates local totals', async () => {
    // Lifetime 1 s: 'early' expires at ~1000 ms, 'late' at ~1600 ms, cleanup at ~1100 ms.
    const { counters, sent, notified } = makeCounters({ viewersFederationV2: v2, viewerCounterLifetime: 1000 })
    await counters.addLocalViewer({ video: LOCAL, sessionId: 'early' })
    await counters.addLocalViewer({ video: REMOTE, sessionId: 'early' })
    await sleep(600)
    await counters.addLocalViewer({ video: LOCAL, sessionId: 'late' })
    await sleep(500) // 'early' viewers expired, 'late' is alive
    await waitFor(() => sent.length >= (v2 ? 1 : 3))
    sent.length = 0
    notified.length = 0
    expect(await counters.cleanViewerCounters()).toEqual({ videos: 2, expired: 2, federated: v2 ? 1 : 0 })
    expect(counters.getTotalViewersOf(LOCAL)).toBe(1)
    expect(counters.getTotalViewersOf(REMOTE)).toBe(0)
    await waitFor(() => notified.length === 2)
    expect(notified.sort()).toEqual([
      [1, 1],
      [2, 0], // the video that dropped to 0 gets one final 0
    ])
    expect(sent).toEqual(v2 ? [{ video: LOCAL, viewersCount: 1, viewerIdentifier: LOCAL.uuid }] : [])
    // Videos without viewers are no longer touched.
    notified.length = 0
    expect(await counters.cleanViewerCounters()).toMatchObject({ videos: 1 })
    await waitFor(() => notified.length === 1)
    expect(notified).toEqual([[1, 1]])
  })
})

test('totals by scope', async () => {
  const { counters } = makeCounters()
  const expires = Date.now() + 60_000
  await counters.addLocalViewer({ video: LOCAL, sessionId: 'a' })
  await counters.addLocalViewer({ video: LOCAL, sessionId: 'b' })
  await counters.addLocalViewer({ video: REMOTE, sessionId: 'a' })
  counters.addRemoteViewerOnLocalVideo({ video: LOCAL, viewerId: 'https://x/1', viewerExpires: expires })
  counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: 'https://origin/t', viewerExpires: expires, viewerResultCounter: 5 })
  expect(counters.getTotalViewers({ viewerScope: 'local', videoScope: 'local' })).toBe(2)
  expect(counters.getTotalViewers({ viewerScope: 'remote', videoScope: 'local' })).toBe(1)
  expect(counters.getTotalViewers({ viewerScope: 'local', videoScope: 'remote' })).toBe(0) // replaced by the origin total
  expect(counters.getTotalViewers({ viewerScope: 'remote', videoScope: 'remote' })).toBe(5)
  expect(counters.getTotalViewersOf({ id: 999 })).toBe(0)
  expect(typeof counters.getTotalViewers({ viewerScope: 'local', videoScope: 'local' })).toBe('number')
})

test('deleted videos are not notified', async () => {
  const { counters, notified } = makeCounters({ loadVideo: async () => null })
  await counters.addLocalViewer({ video: LOCAL, sessionId: 'gone' })
  await waitFor(() => notified.length === 1)
  notified.length = 0
  await sleep(450)
  expect(await counters.cleanViewerCounters()).toMatchObject({ videos: 1, expired: 1 })
  await sleep(50)
  expect(notified).toEqual([])
})

describe('host callback failures', () => {
  test('sendView rejecting or throwing is logged with the video uuid and changes nothing else', async () => {
    const { logger, records } = recordingLogger()
    let calls = 0
    const { counters } = makeCounters({
      viewersFederationV2: false,
      logger,
      sendView: (view) => {
        calls += 1
        if (view.video.id === 1) throw new Error('broadcast failed')
        return Promise.reject(new Error('origin unreachable'))
      },
    })
    expect(await counters.addLocalViewer({ video: LOCAL, sessionId: 'x' })).toBe(true)
    expect(await counters.addLocalViewer({ video: REMOTE, sessionId: 'x' })).toBe(true)
    await waitFor(() => records.filter((r) => r.level === 'error').length === 2)
    const errors = records.filter((r) => r.level === 'error')
    expect(errors.map((r) => r.meta.tags).sort()).toEqual([
      ['views', LOCAL.uuid],
      ['views', REMOTE.uuid],
    ])
    expect(errors.map((r) => r.meta.err.message).sort()).toEqual(['broadcast failed', 'origin unreachable'])
    expect(calls).toBe(2)
    expect(counters.getTotalViewersOf(LOCAL) + counters.getTotalViewersOf(REMOTE)).toBe(2)
    expect(counters.getInternalStats().callbackErrors).toBe(2)
  })

  test('at most federationConcurrency sendView calls in flight; the rest wait and are all sent, none timed out', async () => {
    const { logger, records } = recordingLogger()
    let inFlight = 0
    let most = 0
    const sent = []
    const { counters } = makeCounters({
      viewersFederationV2: false,
      federationConcurrency: 4,
      callbackTimeout: 300,
      logger,
      sendView: async (view) => {
        inFlight++
        most = Math.max(most, inFlight)
        // Each call takes 40 ms: 60 calls at 4 at once take 600 ms, twice the timeout, yet
        // no call is in flight for more than 40 ms.
        await sleep(40)
        inFlight--
        sent.push(view.viewerIdentifier)
      },
    })
    for (let i = 0; i < 60; i++) await counters.addLocalViewer({ video: LOCAL, sessionId: `storm-${i}` })
    expect(counters.getInternalStats().pendingFederation).toBeGreaterThan(4)
    await waitFor(() => sent.length === 60, { timeout: 5000 })
    expect(most).toBe(4)
    expect(new Set(sent).size).toBe(60)
    expect(records.filter((r) => r.level === 'error')).toEqual([])
    // A send counts as done once its outcome is back in native code, just after the callback.
    await waitFor(() => counters.getInternalStats().pendingFederation === 0)
    expect(counters.getInternalStats()).toMatchObject({ pendingFederation: 0, callbackErrors: 0 })
  })

  test('loadVideo failing for one video does not stop the cleanup of the others', async () => {
    const { logger, records } = recordingLogger()
    const { counters, notified } = makeCounters({
      logger,
      loadVideo: (id) => {
        if (id === 1) throw new Error('db down')
        return videos[id]
      },
    })
    await counters.addLocalViewer({ video: LOCAL, sessionId: 'x' })
    await counters.addLocalViewer({ video: REMOTE, sessionId: 'x' })
    await waitFor(() => notified.length === 2)
    notified.length = 0
    expect(await counters.cleanViewerCounters()).toMatchObject({ videos: 2 })
    await waitFor(() => notified.length === 1)
    expect(notified).toEqual([[2, 1]])
    await waitFor(() => records.some((r) => r.meta.err?.message === 'db down'))
    expect(records.find((r) => r.meta.err?.message === 'db down').meta.tags).toEqual(['views', LOCAL.uuid])
  })

  test('a hanging loadVideo times out; throwing notifyClients and logger never crash Node', async () => {
    const { counters } = makeCounters({
      callbackTimeout: 100,
      loadVideo: () => new Promise(() => {}),
      notifyClients: () => {
        throw new Error('socket.io exploded')
      },
      logger: {
        error: () => {
          throw new Error('logger exploded')
        },
      },
    })
    await counters.addLocalViewer({ video: LOCAL, sessionId: 'x' })
    const started = Date.now()
    expect(await counters.cleanViewerCounters()).toMatchObject({ videos: 1 })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(counters.getInternalStats().callbackErrors).toBe(1)
    await sleep(50)
  })
})

describe('input validation', () => {
  const { counters } = makeCounters()
  const expires = Date.now() + 1000
  test.each([
    ['addLocalViewer without uuid', () => counters.addLocalViewer({ video: { id: 1 }, sessionId: 'a' }), TypeError, /^video\.uuid must be a string/],
    ['addLocalViewer session too long', () => counters.addLocalViewer({ video: LOCAL, sessionId: 'x'.repeat(257) }), RangeError, /^sessionId must be at most 256/],
    ['addLocalViewer bad id', () => counters.addLocalViewer({ video: { ...LOCAL, id: -1 }, sessionId: 'a' }), RangeError, /^video\.id/],
    ['remote without viewerId', () => counters.addRemoteViewerOnLocalVideo({ video: LOCAL, viewerExpires: expires }), TypeError, /^viewerId must be a string/],
    ['remote bad expires string', () => counters.addRemoteViewerOnLocalVideo({ video: LOCAL, viewerId: 'x', viewerExpires: 'tomorrow' }), RangeError, /^viewerExpires must be an ISO 8601 date/],
    ['remote invalid Date', () => counters.addRemoteViewerOnLocalVideo({ video: LOCAL, viewerId: 'x', viewerExpires: new Date(NaN) }), RangeError, /^viewerExpires must be a valid date/],
    ['remote expires object', () => counters.addRemoteViewerOnLocalVideo({ video: LOCAL, viewerId: 'x', viewerExpires: {} }), TypeError, /^viewerExpires must be a Date/],
    ['counter negative', () => counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: 'x', viewerExpires: expires, viewerResultCounter: -2 }), RangeError, /^viewerResultCounter must be an integer/],
    ['counter NaN', () => counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: 'x', viewerExpires: expires, viewerResultCounter: NaN }), RangeError, /^viewerResultCounter/],
    ['counter string', () => counters.addRemoteViewerOnRemoteVideo({ video: REMOTE, viewerId: 'x', viewerExpires: expires, viewerResultCounter: '3' }), TypeError, /^viewerResultCounter must be a number/],
    ['scope unknown', () => counters.getTotalViewers({ viewerScope: 'everyone', videoScope: 'local' }), RangeError, /^viewerScope must be 'local' or 'remote'/],
    ['scope missing', () => counters.getTotalViewers({ viewerScope: 'local' }), TypeError, /^videoScope must be a string/],
    ['totalOf without id', () => counters.getTotalViewersOf({}), TypeError, /^video\.id must be a number/],
    ['totalOf not an object', () => counters.getTotalViewersOf(1), TypeError, /^video must be an object/],
  ])('%s', async (_name, call, ErrorClass, message) => {
    let err
    try {
      await call()
    } catch (e) {
      err = e
    }
    expect(err).toBeDefined()
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.name).toBe(ErrorClass.name)
    expect(err.message).toMatch(message)
    expect(counters.getInternalStats().viewers).toBe(0)
  })

  test('constructor options', () => {
    const base = { loadVideo: () => null, notifyClients: () => {}, sendView: () => {}, autoStart: false }
    for (const [patch, message] of [
      [{ loadVideo: undefined }, /^loadVideo must be a function/],
      [{ notifyClients: 3 }, /^notifyClients must be a function/],
      [{ viewerCounterLifetime: '2 lightyears' }, /^viewerCounterLifetime .*unknown duration unit/],
      [{ viewersFederationV2: 'true' }, /^viewersFederationV2 must be a boolean/],
    ]) {
      expect(() => new VideoViewerCounters({ ...base, ...patch })).toThrow(message)
    }
  })
})

test('closed counters refuse new viewers', async () => {
  const { counters } = makeCounters()
  await counters.close()
  await counters.close()
  await expect(counters.addLocalViewer({ video: LOCAL, sessionId: 'late' })).rejects.toMatchObject({ code: 'CLOSED' })
})

test('100,000 viewers joining one video: per-join cost stays flat, totals O(1), notifications coalesced', async () => {
  const { counters, notified } = makeCounters({ viewersFederationV2: true, viewerCounterLifetime: '1 hour' })
  const video = { id: 77, uuid: '77777777-7777-4777-8777-777777777777', remote: false }
  // 100 slices of 1,000 joins. The first and the last 10,000 joins are compared through the
  // median of their ten slices, so one GC pause on this shared machine cannot decide the result.
  const slices = []
  let session = 0
  for (let s = 0; s < 100; s++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < 1_000; i++) {
      await counters.addLocalViewer({ video, sessionId: `viewer-${session++}` })
    }
    slices.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  const first = median(slices.slice(0, 10)) * 10
  const last = median(slices.slice(-10)) * 10
  const sum = (xs) => xs.reduce((a, b) => a + b, 0)
  console.log(
    `100k joins on one video: first 10k ${first.toFixed(1)} ms, last 10k ${last.toFixed(1)} ms (median-based; raw ${sum(slices.slice(0, 10)).toFixed(1)} / ${sum(slices.slice(-10)).toFixed(1)} ms), last/first = ${(last / first).toFixed(2)}`,
  )
  expect(last).toBeLessThanOrEqual(2 * first)
  expect(counters.getTotalViewersOf(video)).toBe(100_000)
  expect(counters.getTotalViewers({ viewerScope: 'local', videoScope: 'local' })).toBe(100_000)
  await waitFor(() => lastNotification(notified, 77) === 100_000)
  expect(notified.length).toBeLessThan(1_000)
})
