// VideoViews drains: nothing lost while views keep arriving, refused counts are put back,
// hourly stats go to saveHourlyViews with the hour's bounds.
const { VideoViews } = require('../index.js')
const { redisSection, inspector, uniqueHost, sleep } = require('./helpers/env')

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

const engines = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close().catch(() => {})))
})

function makeViews(options = {}) {
  const webserverHost = uniqueHost()
  const calls = { sent: [], incremented: [], hourly: [] }
  const views = new VideoViews({
    redis: redisSection(),
    webserverHost,
    autoStart: false,
    sendView: async (view) => calls.sent.push(view),
    incrementVideoViews: async (v) => calls.incremented.push(v),
    saveHourlyViews: async (v) => calls.hourly.push(v),
    ...options,
  })
  engines.push(views)
  return { views, calls, prefix: `redis-${webserverHost}-` }
}

const video = (id, remote = false) => ({ id, uuid: `bbbbbbbb-0000-4000-8000-${String(id).padStart(12, '0')}`, remote })

test('views recorded while the buffer is drained are never lost (sum drained = views recorded)', async () => {
  const { views, calls, prefix } = makeViews()
  const videos = [1, 2, 3, 4, 5].map((id) => video(id))
  const recorded = new Map()
  let stop = false

  // PeerTube's TypeScript writing (MULTI SADD + INCR, as a rolling upgrade would have it)...
  const writerPeerTube = (async () => {
    let n = 0
    while (!stop) {
      const v = videos[n++ % videos.length]
      await redis.multi().sadd(`${prefix}local-video-views-buffer`, String(v.id)).incr(`${prefix}local-video-views-buffer-${v.id}`).exec()
      recorded.set(v.id, (recorded.get(v.id) ?? 0) + 1)
    }
  })()
  // ...and the addon counting remote views of the same videos, at the same time.
  const writerAddon = (async () => {
    let n = 0
    while (!stop) {
      const v = videos[(n++ * 3) % videos.length]
      await views.addRemoteView({ video: v })
      recorded.set(v.id, (recorded.get(v.id) ?? 0) + 1)
    }
  })()

  let drains = 0
  const until = Date.now() + 1500
  while (Date.now() < until) {
    await views.processViewsBuffer()
    drains++
  }
  stop = true
  await Promise.all([writerPeerTube, writerAddon])
  await views.processViewsBuffer()

  const drained = new Map()
  for (const { videoId, views: n } of calls.incremented) drained.set(videoId, (drained.get(videoId) ?? 0) + n)
  const total = (m) => [...m.values()].reduce((a, b) => a + b, 0)
  console.log(`drains: ${drains}, views recorded: ${total(recorded)}, views drained: ${total(drained)}`)
  expect(total(recorded)).toBeGreaterThan(500)
  expect(drains).toBeGreaterThan(10)
  expect(drained).toEqual(recorded)
  expect(await redis.keys(`${prefix}local-video-views-buffer*`)).toEqual([])
})

test('a rejected incrementVideoViews puts the views back for the next drain', async () => {
  let refuse = true
  const accepted = []
  const { views, prefix } = makeViews({
    incrementVideoViews: async (v) => {
      if (refuse) throw new Error('database is read-only')
      accepted.push(v)
    },
  })
  for (let i = 0; i < 3; i++) await views.addRemoteView({ video: video(7) })
  expect(await views.processViewsBuffer()).toEqual({ videos: 0, views: 0, failed: 1 })
  expect(await redis.get(`${prefix}local-video-views-buffer-7`)).toBe('3')
  expect(await redis.smembers(`${prefix}local-video-views-buffer`)).toEqual(['7'])
  await views.addRemoteView({ video: video(7) })
  refuse = false
  expect(await views.processViewsBuffer()).toEqual({ videos: 1, views: 4, failed: 0 })
  expect(accepted).toEqual([{ videoId: 7, views: 4 }])
  expect(views.getInternalStats().callbackErrors).toBe(1)
})

test('hourly stats are drained into saveHourlyViews with the bounds of that local hour', async () => {
  const { views, calls, prefix } = makeViews()
  const hour = new Date().getHours()
  await views.addRemoteView({ video: video(21) })
  await views.addRemoteView({ video: video(21) })
  await views.addRemoteView({ video: video(22, true) })
  expect(await views.processHourlyViewStats(hour)).toEqual({ videos: 2, views: 3, failed: 0 })
  calls.hourly.sort((a, b) => a.videoId - b.videoId)
  expect(calls.hourly.map(({ videoId, views: n }) => [videoId, n])).toEqual([
    [21, 2],
    [22, 1],
  ])
  for (const { startDate, endDate } of calls.hourly) {
    expect(Object.prototype.toString.call(startDate)).toBe('[object Date]')
    expect(startDate.getHours()).toBe(hour)
    expect(startDate.getMinutes()).toBe(0)
    expect(endDate.getTime() - startDate.getTime()).toBe(3_599_999)
    expect(startDate.getTime()).toBeLessThanOrEqual(Date.now())
  }
  expect(await redis.keys(`${prefix}*video*-h${hour}`)).toEqual([])
  // Only owned videos are in the local buffer.
  expect(await redis.smembers(`${prefix}local-video-views-buffer`)).toEqual(['21'])
})

test('addLocalView: threshold, dedup key with PX, one View sent', async () => {
  const { views, calls, prefix } = makeViews({ viewExpiration: 500 })
  const v = { ...video(30), duration: 100 }
  expect(await views.addLocalView({ video: v, sessionId: 'x', watchTime: 9 })).toBe(false)
  expect(await views.addLocalView({ video: v, sessionId: 'x', watchTime: 10 })).toBe(true)
  expect(await views.addLocalView({ video: v, sessionId: 'x', watchTime: 20 })).toBe(false)
  const pttl = await redis.pttl(`${prefix}views-${v.uuid}-x`)
  expect(pttl).toBeGreaterThan(0)
  expect(pttl).toBeLessThanOrEqual(500)
  await sleep(600)
  expect(await views.addLocalView({ video: v, sessionId: 'x', watchTime: 30 })).toBe(true)
  await sleep(50)
  expect(calls.sent).toHaveLength(2)
  expect(new Set(calls.sent.map((s) => s.viewerIdentifier)).size).toBe(2)
})

test('bad input is rejected with INVALID_ARGUMENT', async () => {
  const { views } = makeViews()
  for (const [call, message] of [
    [() => views.addLocalView({ video: { id: 1, uuid: 'u', duration: -1 }, sessionId: 'x', watchTime: 1 }), /^video\.duration must be a number of seconds >= 0/],
    [() => views.addLocalView({ video: { id: 1, uuid: 'u' }, sessionId: 'x', watchTime: NaN }), /^watchTime must be finite/],
    [() => views.addLocalView({ video: { id: 1, uuid: 'u' }, sessionId: '', watchTime: 1 }), /^sessionId must not be empty/],
    [() => views.addRemoteView({ video: { id: 'x' } }), /^video\.id must be a number/],
    [() => views.processHourlyViewStats(24), /^hour must be an integer from 0 to 23/],
  ]) {
    const err = await call().catch((e) => e)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message).toMatch(message)
  }
})
