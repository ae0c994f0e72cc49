// Persistence into a real PostgreSQL with PeerTube's tables, through the adapter's own host
// callbacks (integration/peertube/native-host.ts) over pg ports that do what PeerTube's models do.
// A scripted set of viewers goes through the native VideoViewsManager; then PeerTube's overall and
// retention statistics queries must give the numbers worked out by hand below, a viewer whose
// transaction fails half-way is rolled back, retried by the engine and stored exactly once, and
// the views buffer and hourly stats land in "video"."views" and "videoView". The tests run in
// order on one database and one manager: each continues from the previous one's state.
const path = require('node:path')
const { VideoViewsManager } = require('../../index.js')
const { redisSection, uniqueHost, recordingLogger, sleep, waitFor } = require('../helpers/env')
const { loadTs } = require('../helpers/load-ts')
const { createDatabase } = require('./peertube-sql/database')
const { pgPorts, WEBSERVER_URL } = require('./peertube-sql/ports')
const { getOverallStats, getRetentionStats } = require('./peertube-sql/stats-queries')

const { buildNativeHost } = loadTs(path.join(__dirname, '../../integration/peertube/native-host.ts'))
const fixtures = path.join(__dirname, '..', 'fixtures')

const VIEWER_STATS_LIFETIME_MS = 300
const STEP_MS = 15 // between heartbeats: every startDate/endDate is a distinct millisecond

let db
let manager
let ports
let sent
let faults
let transactions
let records
const videos = {}

beforeAll(async () => {
  db = await createDatabase()
  const insert = async (name, duration, remote, views) => {
    const uuid = require('node:crypto').randomUUID()
    const { rows } = await db.pool.query(
      'INSERT INTO "video" ("uuid", "name", "duration", "views", "remote", "url") VALUES ($1, $2, $3, $4, $5, $6) RETURNING *',
      [uuid, name, duration, views, remote, (remote ? 'http://origin.test' : WEBSERVER_URL) + '/videos/watch/' + uuid],
    )
    return rows[0]
  }
  videos.local = await insert('local 5 s', 5, false, 7)
  videos.remote = await insert('remote 20 s', 20, true, 40)

  ;({ ports, sent, faults, transactions } = pgPorts(db.pool))
  const recorder = recordingLogger()
  records = recorder.records
  manager = new VideoViewsManager({
    redis: redisSection(),
    webserverHost: uniqueHost(),
    geoIp: {
      countryDatabasePath: path.join(fixtures, 'geo-country-test.mmdb'),
      cityDatabasePath: path.join(fixtures, 'geo-city-test.mmdb'),
    },
    autoStart: false,
    viewerStatsLifetime: VIEWER_STATS_LIFETIME_MS,
    viewerCounterLifetime: '1 hour',
    viewExpiration: '1 hour',
    countViewAfter: '10 seconds',
    viewersFederationV2: true,
    logger: recorder.logger,
    host: buildNativeHost(ports),
  })
})

afterAll(async () => {
  if (manager) await manager.close().catch(() => {})
  if (db) await db.drop()
})

const nativeVideo = (row) => ({ id: row.id, uuid: row.uuid, remote: row.remote, duration: row.duration, isLive: row.isLive })

// The script. Each viewer: session, IP (GeoIP fixture), video, heartbeats [currentTime, 'seek'?].
// Sections follow PeerTube's rules: a seek opens a section; a time before the last section's
// start opens one too; otherwise the last section ends at the new time.
const VIEWERS = {
  A: { ip: '192.0.2.1', video: 'local' }, // US, California   sections [0,2]          watch 2
  B: { ip: '192.0.2.7', video: 'local' }, // US, California   sections [0,1] [4,5]    watch 2 (its first transaction fails)
  C: { ip: '2001:db8::1', video: 'local' }, // FR, Brittany   sections [2,5]          watch 3: counts a view (5 / 3 < 2)
  D: { ip: '81.2.69.160', video: 'local' }, // GB             sections [1,1]          watch 0: no row, no country
  E: { ip: '8.8.8.8', video: 'local' }, // no GeoIP data     sections [3,4] [1,2]    watch 2
  F: { ip: '198.51.100.7', video: 'remote' }, // JP          sections [0,12]         watch 12: a view, a WatchAction
}
const SCRIPT = [
  ['A', 0, 'seek'], // A starts                                      concurrent 1
  ['B', 0, 'seek'], // B starts                                      2
  ['D', 1, 'seek'],
  ['A', 1],
  ['B', 1],
  ['A', 2], // A ends                                                1
  ['C', 2, 'seek'], // C starts                                      2
  ['E', 3, 'seek'], // E starts: the peak                            3
  ['B', 4, 'seek'],
  ['C', 3],
  ['E', 4],
  ['B', 5], // B ends                                                2
  ['C', 4],
  ['E', 1], // before the start of E's last section: a new section
  ['C', 5], // C ends: watch time 3, a view                          1
  ['E', 2], // E ends                                                0
  ['F', 0, 'seek'],
  ['F', 5],
  ['F', 12], // watch time 12 >= 10 s: a view on the remote video
]

const seen = {} // viewer -> { firstBefore, firstAfter, lastBefore, lastAfter } (ms)
const hours = new Set()

async function runScript() {
  for (const [name, currentTime, viewEvent] of SCRIPT) {
    const viewer = VIEWERS[name]
    const before = Date.now()
    hours.add(new Date().getHours())
    const result = await manager.processLocalView({
      video: nativeVideo(videos[viewer.video]),
      currentTime,
      ip: viewer.ip,
      sessionId: 'session-' + name,
      viewEvent,
    })
    hours.add(new Date().getHours())
    const after = Date.now()
    seen[name] = seen[name] ? { ...seen[name], lastBefore: before, lastAfter: after } : { firstBefore: before, firstAfter: after, lastBefore: before, lastAfter: after }
    ;(viewer.results = viewer.results || []).push(result.successView)
    await sleep(STEP_MS)
  }
}

async function viewerRows() {
  const { rows } = await db.pool.query(
    'SELECT v.*, json_agg(json_build_array(s."watchStart", s."watchEnd") ORDER BY s."id") AS "sections" ' +
      'FROM "localVideoViewer" v JOIN "localVideoViewerWatchSection" s ON s."localVideoViewerId" = v."id" ' +
      'GROUP BY v."id" ORDER BY v."startDate"',
  )
  return rows
}

const count = async (sql) => Number((await db.pool.query(sql)).rows[0].count)

test('heartbeats: views and viewers decided as PeerTube does', async () => {
  await runScript()
  // C's fifth second and F's twelfth are the only counted views.
  expect(VIEWERS.C.results).toEqual([false, false, false, true])
  expect(VIEWERS.F.results).toEqual([false, false, true])
  for (const name of ['A', 'B', 'D', 'E']) expect(VIEWERS[name].results.every((v) => v === false)).toBe(true)

  // A View from another instance on the local video: a view (buffer + hourly), and a remote viewer.
  await manager.processRemoteView({ video: nativeVideo(videos.local), viewerId: 'http://remote.test/views/1' })
  await manager.processRemoteView({
    video: nativeVideo(videos.local),
    viewerId: 'http://remote.test/views/2',
    viewerExpires: new Date(Date.now() + 60_000),
  })
  expect(manager.getTotalViewersOf({ id: videos.local.id })).toBe(6) // A B C D E + one remote
  expect(manager.getTotalViewers({ viewerScope: 'local', videoScope: 'local' })).toBe(5)
  expect(manager.getTotalViewers({ viewerScope: 'local', videoScope: 'remote' })).toBe(1)
  expect(manager.getTotalViewers({ viewerScope: 'remote', videoScope: 'local' })).toBe(1)

  // Counted views are sent as plain Views (no viewersCount), with the loaded video's url.
  await waitFor(() => sent.views.filter((v) => v.viewersCount === undefined).length === 2)
  const plain = sent.views.filter((v) => v.viewersCount === undefined).map((v) => v.videoUrl).sort()
  expect(plain).toEqual([videos.local.url, videos.remote.url].sort())
  // v2: the local viewer of the remote video is announced to its origin.
  await waitFor(() => sent.views.some((v) => v.viewersCount === 1))
  expect(sent.views.filter((v) => v.viewersCount === 1)).toEqual([
    { videoUrl: videos.remote.url, viewersCount: 1, viewerIdentifier: `session-F-${videos.remote.uuid}` },
  ])
})

test('a viewer whose transaction fails half-way is rolled back, retried, and stored once', async () => {
  await sleep(VIEWER_STATS_LIFETIME_MS + 100) // every viewer is now inactive for longer than the lifetime

  // B's sections fail after their first INSERT: its row and that section must roll back.
  let injected = 0
  faults.createWatchSections = (input) => input.watchSections.length === 2 && input.watchSections[0].end === 1 && ++injected === 1

  const first = await manager.processViewerStats()
  expect(injected).toBe(1)
  expect(first).toMatchObject({ expired: 6, persisted: 4, discarded: 1, failed: 1 })
  expect(transactions).toEqual({ committed: 4, rolledBack: 1 })
  expect(await count('SELECT COUNT(*) FROM "localVideoViewer"')).toBe(4)
  expect(await count('SELECT COUNT(*) FROM "localVideoViewerWatchSection"')).toBe(5) // A 1, C 1, E 2, F 1
  expect(await count('SELECT COUNT(*) FROM "localVideoViewer" WHERE "country" = \'US\'')).toBe(1) // A only
  // The failure is logged with the viewer's key and the host's error.
  const logged = records.filter((r) => r.level === 'error')
  expect(logged).toHaveLength(1)
  expect(logged[0].message).toBe('Cannot process viewer stats for Redis key %s.')
  expect(logged[0].meta.key).toContain('session-B')
  expect(logged[0].meta.err.message).toBe('injected failure after the first watch section')

  const second = await manager.processViewerStats()
  expect(second).toMatchObject({ expired: 1, persisted: 1, failed: 0 })
  const third = await manager.processViewerStats()
  expect(third).toMatchObject({ scanned: 0, expired: 0, persisted: 0, failed: 0 })
  expect(transactions).toEqual({ committed: 5, rolledBack: 1 })

  const rows = await viewerRows()
  expect(rows.map((r) => ({
    videoId: r.videoId, watchTime: r.watchTime, country: r.country, subdivisionName: r.subdivisionName, sections: r.sections,
  }))).toEqual([
    { videoId: videos.local.id, watchTime: 2, country: 'US', subdivisionName: 'California', sections: [[0, 2]] }, // A
    { videoId: videos.local.id, watchTime: 2, country: 'US', subdivisionName: 'California', sections: [[0, 1], [4, 5]] }, // B
    { videoId: videos.local.id, watchTime: 3, country: 'FR', subdivisionName: 'Brittany', sections: [[2, 5]] }, // C
    { videoId: videos.local.id, watchTime: 2, country: null, subdivisionName: null, sections: [[3, 4], [1, 2]] }, // E
    { videoId: videos.remote.id, watchTime: 12, country: 'JP', subdivisionName: null, sections: [[0, 12]] }, // F
  ])
  // Dates are the first and last heartbeats; url and uuid as PeerTube builds them.
  for (const [row, name] of rows.map((r, i) => [r, ['A', 'B', 'C', 'E', 'F'][i]])) {
    expect(row.startDate.getTime()).toBeGreaterThanOrEqual(seen[name].firstBefore)
    expect(row.startDate.getTime()).toBeLessThanOrEqual(seen[name].firstAfter)
    expect(row.endDate.getTime()).toBeGreaterThanOrEqual(seen[name].lastBefore)
    expect(row.endDate.getTime()).toBeLessThanOrEqual(seen[name].lastAfter)
    expect(row.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(row.url).toBe(`${WEBSERVER_URL}/videos/local-viewer/${row.uuid}`)
  }

  // One WatchAction, for the remote video's viewer, sent after its commit.
  const f = rows[4]
  expect(sent.watchActions).toEqual([{
    id: f.url,
    type: 'WatchAction',
    duration: 'PT12S',
    startTime: f.startDate.toISOString(),
    endTime: f.endDate.toISOString(),
    object: videos.remote.url,
    uuid: f.uuid,
    actionStatus: 'CompletedActionStatus',
    watchSections: [{ startTimestamp: 0, endTimestamp: 12 }],
    location: { addressCountry: 'JP', addressRegion: null },
  }])
})

test("PeerTube's overall statistics query", async () => {
  const rows = await viewerRows()
  const e = rows[3]
  // 4 viewers (D has no row); watch time 2 + 2 + 3 + 2 = 9, average 2.25 -> 2; the peak is 3 (B, C
  // and E) from E's start; countries and subdivisions without D (GB) and E (unknown).
  expect(await getOverallStats(db.pool, videos.local)).toEqual({
    totalWatchTime: 9,
    averageWatchTime: 2,
    totalViewers: 4,
    viewersPeak: 3,
    viewersPeakDate: e.startDate,
    countries: [{ isoCode: 'US', viewers: '2' }, { isoCode: 'FR', viewers: '1' }], // COUNT is a bigint: pg gives a string, as to PeerTube
    subdivisions: [{ name: 'California', viewers: '2' }, { name: 'Brittany', viewers: '1' }],
  })
  expect(await getOverallStats(db.pool, videos.remote)).toMatchObject({
    totalWatchTime: 12, averageWatchTime: 12, totalViewers: 1, viewersPeak: 1, countries: [{ isoCode: 'JP', viewers: '1' }], subdivisions: [],
  })
})

test("PeerTube's retention statistics query", async () => {
  // Seconds 0..5 of the 5 s video, out of 4 viewers: A [0,2], B [0,1] [4,5], C [2,5], E [3,4] [1,2].
  //   0: A B      1: A B E      2: A C E      3: C E      4: B C E      5: B C
  expect(await getRetentionStats(db.pool, videos.local)).toEqual({
    data: [
      { second: 0, retentionPercent: 50 },
      { second: 1, retentionPercent: 75 },
      { second: 2, retentionPercent: 75 },
      { second: 3, retentionPercent: 50 },
      { second: 4, retentionPercent: 75 },
      { second: 5, retentionPercent: 50 },
    ],
  })
  // 20 s video: step max(round(20 / 100), 1) = 1, 21 points; F watched [0,12].
  const remote = await getRetentionStats(db.pool, videos.remote)
  expect(remote.data.map((d) => d.retentionPercent)).toEqual([...Array(21).keys()].map((s) => (s <= 12 ? 100 : 0)))
})

test('views buffer into "video"."views" (+ an Update), hourly stats into "videoView"', async () => {
  // Local video: C's view and the remote instance's view. The remote video's view is not ours
  // to count (its origin sends an Update).
  expect(await manager.processViewsBuffer()).toEqual({ videos: 1, views: 2, failed: 0 })
  const views = async (id) => (await db.pool.query('SELECT "views" FROM "video" WHERE "id" = $1', [id])).rows[0].views
  expect(await views(videos.local.id)).toBe(9)
  expect(await views(videos.remote.id)).toBe(40)
  expect(sent.federatedVideos).toEqual([{ id: videos.local.id, views: 9 }])
  expect(await manager.processViewsBuffer()).toEqual({ videos: 0, views: 0, failed: 0 })

  let total = 0
  for (const hour of hours) total += (await manager.processHourlyViewStats(hour)).views
  expect(total).toBe(3)
  const { rows } = await db.pool.query('SELECT "videoId", SUM("views")::int AS "views" FROM "videoView" GROUP BY "videoId" ORDER BY "videoId"')
  expect(rows).toEqual([{ videoId: videos.local.id, views: 2 }, { videoId: videos.remote.id, views: 1 }])
  // Each row spans one local hour: hh:00:00.000 to hh:59:59.999.
  const frames = (await db.pool.query('SELECT "startDate", "endDate" FROM "videoView"')).rows
  for (const { startDate, endDate } of frames) {
    expect([startDate.getMinutes(), startDate.getSeconds(), startDate.getMilliseconds()]).toEqual([0, 0, 0])
    expect(endDate.getTime() - startDate.getTime()).toBe(3_600_000 - 1)
    expect(hours.has(startDate.getHours())).toBe(true)
  }
  // Nothing else went wrong along the way: the one error is the injected one.
  expect(records.filter((r) => r.level === 'error')).toHaveLength(1)
})
