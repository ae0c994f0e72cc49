// Exactly-once processing (issue 6, item 3): a host that fails 20 % of the time (throwing or
// rejecting) and two engine processes sharing one Redis. After enough passes every viewer with
// watch time reached a host exactly once, with all its sections, and Redis holds nothing more.
const { spawn } = require('node:child_process')
const path = require('node:path')
const { VideoViewerStats } = require('../../index.js')
const { inspector, redisSection, uniqueHost, sleep } = require('../helpers/env')
const { prng, seedFrom } = require('../helpers/prng')
const { applyHeartbeat, watchTime, seedPeertubeViewers } = require('../helpers/viewers')

const SEED = seedFrom('RELIABILITY_SEED')

let redis
beforeAll(() => {
  redis = inspector()
  console.log(`exactly-once seed: ${SEED} (RELIABILITY_SEED replays)`)
})
afterAll(async () => {
  await redis.quit()
})

/** Random viewers (PeerTube's rules applied to random heartbeats), some with watch time 0. */
function randomViewers(random, count, tag) {
  return Array.from({ length: count }, (_, i) => {
    const beats = []
    const sections = []
    let t = Math.floor(random() * 50)
    const n = 1 + Math.floor(random() * 12)
    for (let k = 0; k < n; k++) {
      const seek = k === 0 || random() < 0.15
      if (seek) t = Math.floor(random() * 300)
      else t += 1 + Math.floor(random() * 5)
      beats.push({ t, seek })
      applyHeartbeat(sections, t, seek)
    }
    return { sessionId: `${tag}-${i}`, videoId: 1 + (i % 5), beats, sections }
  })
}

const viewerKey = (v) => `${v.sessionId}/${v.videoId}`

/** Every expected viewer stored exactly once with its sections; nothing else stored. */
function expectExactlyOnce(stored, viewers) {
  const byKey = new Map()
  for (const record of stored) {
    const key = viewerKey(record)
    byKey.set(key, [...(byKey.get(key) ?? []), record])
  }
  const expected = viewers.filter((v) => watchTime(v.sections) > 0)
  const duplicates = [...byKey].filter(([, records]) => records.length > 1).map(([key]) => key)
  expect(duplicates).toEqual([])
  expect(stored.length).toBe(expected.length)
  for (const v of expected) {
    const [record] = byKey.get(viewerKey(v)) ?? [undefined]
    expect({ key: viewerKey(v), sections: record?.watchSections, watchTime: record?.watchTime }).toEqual({
      key: viewerKey(v),
      sections: v.sections,
      watchTime: watchTime(v.sections),
    })
  }
}

async function keysUnder(prefix) {
  return redis.keys(`${prefix}*`)
}

test('a host failing 20 % of the time: every viewer persisted exactly once with its sections', async () => {
  const random = prng(SEED)
  const webserverHost = uniqueHost()
  const prefix = `redis-${webserverHost}-`
  const stored = []
  let failures = 0
  const stats = new VideoViewerStats({
    redis: redisSection(),
    webserverHost,
    autoStart: false,
    viewerStatsLifetime: 1000,
    saveViewerStats: async (viewer) => {
      const roll = random()
      if (roll < 0.2) {
        failures++
        if (roll < 0.1) throw new Error('host failed')
        return Promise.reject(new Error('host rejected'))
      }
      stored.push(viewer)
    },
  })
  try {
    // Viewers that come through the engine (cached) and viewers PeerTube wrote (cold).
    const live = randomViewers(random, 400, 'live')
    for (const v of live) {
      for (const { t, seek } of v.beats) {
        await stats.addLocalViewer({ video: { id: v.videoId, uuid: `uuid-${v.videoId}` }, currentTime: t, sessionId: v.sessionId, ...(seek ? { viewEvent: 'seek' } : {}) })
      }
    }
    await stats.syncRedisWrites()
    const cold = randomViewers(random, 400, 'cold')
    const old = Date.now() - 3_600_000
    await seedPeertubeViewers(redis, prefix, cold.map((v) => ({ ...v, firstUpdated: old - 1000, lastUpdated: old, watchSections: v.sections })))
    await sleep(1100)

    let passes = 0
    while ((await redis.scard(`${prefix}local-video-viewer-stats-keys`)) > 0 && passes < 100) {
      await stats.processViewerStats()
      passes++
    }
    console.log(`host failures: ${failures}, passes: ${passes}, stored: ${stored.length}`)
    expect(failures).toBeGreaterThan(50)
    expect(stats.getInternalStats().callbackErrors).toBe(failures)
    expectExactlyOnce(stored, [...live, ...cold])
    expect(await keysUnder(prefix)).toEqual([])
  } finally {
    await stats.close()
  }
})

test('two engine processes on one Redis persist each viewer exactly once', async () => {
  const random = prng(SEED + 1)
  const webserverHost = uniqueHost()
  const prefix = `redis-${webserverHost}-`
  const viewers = randomViewers(random, 3000, 'shared')
  const old = Date.now() - 7_200_000
  await seedPeertubeViewers(redis, prefix, viewers.map((v) => ({ ...v, firstUpdated: old - 1000, lastUpdated: old, watchSections: v.sections })))

  const children = [1, 2].map((n) =>
    spawn(process.execPath, [path.join(__dirname, 'exactly-once-child.js')], {
      env: { ...process.env, WEBSERVER_HOST: webserverHost, SEED: String(SEED * 10 + n) },
      stdio: ['pipe', 'pipe', 'pipe'],
    }),
  )
  const results = children.map(
    (child) =>
      new Promise((resolve, reject) => {
        let out = ''
        let err = ''
        child.stdout.on('data', (chunk) => (out += chunk))
        child.stderr.on('data', (chunk) => (err += chunk))
        child.once('exit', (code) => (code === 0 && err === '' ? resolve(JSON.parse(out)) : reject(new Error(`child exited ${code}: ${err}`))))
      }),
  )
  // Both start together, so their passes overlap.
  await sleep(300)
  for (const child of children) child.stdin.end('go\n')
  const [a, b] = await Promise.all(results)
  console.log(`process A stored ${a.stored.length} (${a.failures} host failures, ${a.passes} passes, ${a.skipped} skipped), process B stored ${b.stored.length} (${b.failures} failures, ${b.passes} passes, ${b.skipped} skipped)`)
  expect(a.failures + b.failures).toBeGreaterThan(100)
  expectExactlyOnce([...a.stored, ...b.stored], viewers)
  expect(await keysUnder(prefix)).toEqual([])
}, 120_000)
