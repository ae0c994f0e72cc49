// PeerTube's statistics queries (LocalVideoViewerModel.getOverallStats without date filters, and
// getRetentionStats), with the same SQL and the same mapping of the rows; `:videoId` becomes $1.

async function getOverallStats(pool, video) {
  const params = [video.id]
  const totalViewersQuery =
    'SELECT COUNT("localVideoViewer"."id") AS "totalViewers" FROM "localVideoViewer" WHERE "videoId" = $1'
  const watchTimeQuery =
    'SELECT SUM("localVideoViewer"."watchTime") AS "totalWatchTime", AVG("localVideoViewer"."watchTime") AS "averageWatchTime" ' +
    'FROM "localVideoViewer" WHERE "videoId" = $1'
  const watchPeakQuery = `WITH
    "beforeWatchers" AS (SELECT 0 AS "total"),
    "watchPeakValues" AS (
      SELECT "startDate" AS "dateBreakpoint", 1 AS "inc"
      FROM "localVideoViewer"
      WHERE "videoId" = $1
      UNION ALL
      SELECT "endDate" AS "dateBreakpoint", -1 AS "inc"
      FROM "localVideoViewer"
      WHERE "videoId" = $1
    )
    SELECT "dateBreakpoint", "concurrent"
    FROM (
      SELECT "dateBreakpoint", SUM(SUM("inc")) OVER (ORDER BY "dateBreakpoint") + (SELECT "total" FROM "beforeWatchers") AS "concurrent"
      FROM "watchPeakValues"
      GROUP BY "dateBreakpoint"
    ) tmp
    ORDER BY "concurrent" DESC
    FETCH FIRST 1 ROW ONLY`
  const geoQuery = (type) =>
    `SELECT "${type}", COUNT("${type}") as viewers FROM "localVideoViewer" ` +
    `WHERE "videoId" = $1 AND "${type}" IS NOT NULL GROUP BY "${type}" ORDER BY "viewers" DESC`

  const [total, watchTime, peak, countries, subdivisions] = await Promise.all(
    [totalViewersQuery, watchTimeQuery, watchPeakQuery, geoQuery('country'), geoQuery('subdivisionName')].map(
      async (sql) => (await pool.query(sql, params)).rows,
    ),
  )

  const viewersPeak = peak.length !== 0 ? parseInt(peak[0].concurrent) || 0 : 0
  return {
    totalWatchTime: watchTime.length !== 0 ? Math.round(watchTime[0].totalWatchTime) || 0 : 0,
    averageWatchTime: watchTime.length !== 0 ? Math.round(watchTime[0].averageWatchTime) || 0 : 0,
    totalViewers: total.length !== 0 ? Math.round(total[0].totalViewers) || 0 : 0,
    viewersPeak,
    viewersPeakDate: peak.length !== 0 && viewersPeak !== 0 ? peak[0].dateBreakpoint || null : null,
    countries: countries.map((r) => ({ isoCode: r.country, viewers: r.viewers })),
    subdivisions: subdivisions.map((r) => ({ name: r.subdivisionName, viewers: r.viewers })),
  }
}

async function getRetentionStats(pool, video) {
  const step = Math.max(Math.round(video.duration / 100), 1)
  const query =
    'WITH "total" AS (SELECT COUNT(*) AS viewers FROM "localVideoViewer" WHERE "videoId" = $1) ' +
    'SELECT serie AS "second", ' +
    '(COUNT("localVideoViewer".id)::float / (SELECT GREATEST("total"."viewers", 1) FROM "total")) AS "retention" ' +
    `FROM generate_series(0, ${video.duration}, ${step}) serie ` +
    'LEFT JOIN "localVideoViewer" ON "localVideoViewer"."videoId" = $1 ' +
    'AND EXISTS (' +
    'SELECT 1 FROM "localVideoViewerWatchSection" ' +
    'WHERE "localVideoViewer"."id" = "localVideoViewerWatchSection"."localVideoViewerId" ' +
    'AND serie >= "localVideoViewerWatchSection"."watchStart" ' +
    'AND serie <= "localVideoViewerWatchSection"."watchEnd"' +
    ')' +
    'GROUP BY serie ' +
    'ORDER BY serie ASC'
  const { rows } = await pool.query(query, [video.id])
  return { data: rows.map((r) => ({ second: r.second, retentionPercent: parseFloat(r.retention) * 100 })) }
}

module.exports = { getOverallStats, getRetentionStats }
