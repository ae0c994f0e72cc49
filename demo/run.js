#!/usr/bin/env node
// npm run demo: a popular live on one VideoViewsManager. Local viewers join on a ramp, send a
// heartbeat every 5 s of video, sometimes seek, and leave; remote viewers renew their presence
// with View activities. A live line shows viewers now, heartbeats/s and pending writes; the
// run ends with a summary, checks of what the engine stored against what was watched, and an
// SVG chart of concurrent viewers and watch time. Exit code 0 when every check passes.
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { VideoViewsManager } = require('..')
const { parseOptions } = require('./options')
const { buildAudience } = require('./audience')
const { demoRedis } = require('./redis')
const { Simulation } = require('./simulation')
const { renderChart } = require('./chart')
const { buildSummary, formatSummary } = require('./summary')
const { createProgress } = require('./progress')

const COUNT_VIEW_AFTER = 10 // seconds (PeerTube's default views.videos.count_view_after)
const LIVE = { id: 1, uuid: 'de300000-0000-4000-8000-000000000001', remote: false, isLive: true }

/** The host side: what PeerTube would store, kept in memory for the checks. */
function storedViewers() {
  const stored = { viewers: 0, watchTime: 0, bySession: new Map(), drainedViews: 0 }
  stored.host = {
    saveViewerStats: (viewer) => {
      stored.viewers += 1
      stored.watchTime += viewer.watchTime
      stored.bySession.set(viewer.sessionId, (stored.bySession.get(viewer.sessionId) || 0) + viewer.watchTime)
    },
    loadVideo: (id) => (id === LIVE.id ? LIVE : null),
    notifyClients: () => {},
    sendView: () => {},
    incrementVideoViews: ({ views }) => {
      stored.drainedViews += views
    },
    saveHourlyViews: () => {},
  }
  return stored
}

function writeFile(file, content) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true })
  fs.writeFileSync(file, content)
}

async function main() {
  let parsed
  try {
    parsed = parseOptions()
  } catch (err) {
    console.error(err.message)
    process.exit(2)
  }
  const { options, help } = parsed
  if (help) return console.log(help)
  const redis = await demoRedis()
  const webserverHost = `demo-${process.pid}-${Date.now()}.local`
  let manager = null
  let stopped = null
  const stop = () =>
    (stopped ??= (async () => {
      if (manager) await manager.close().catch(() => {})
      await redis.cleanup(`redis-${webserverHost}-`)
    })())
  process.once('SIGINT', () => stop().then(() => process.exit(130)))
  try {
    const stored = storedViewers()
    const warnings = []
    manager = new VideoViewsManager({
      redis: redis.section,
      webserverHost,
      viewerCounterLifetime: options.counterLifetime * 1000,
      viewerStatsLifetime: options.statsLifetime * 1000,
      syncRedisInterval: '1 second',
      countViewAfter: COUNT_VIEW_AFTER * 1000,
      viewersFederationV2: true,
      logger: { warn: (message) => warnings.push(message), error: (message) => warnings.push(message) },
      host: stored.host,
    })
    await simulate({ options, manager, redis, stored, warnings, webserverHost, stop })
  } finally {
    await stop() // never leave the private redis-server running
  }
}

async function simulate({ options, manager, redis, stored, warnings, webserverHost, stop }) {
  const audience = buildAudience(options)
  console.log(
    `Live ${LIVE.uuid}: ${options.viewers} local viewers (heartbeat every ${options.heartbeat} s of video, ${audience.interval.toFixed(2)} s real), ` +
      `${options.remote} remote viewers, ${options.duration} s of audience; Redis ${redis.label}`,
  )
  const sim = new Simulation({ manager, video: LIVE, audience, options, stored, progress: createProgress() })
  const startHour = new Date().getHours()
  const run = await sim.run()

  // Drain what is left in Redis: the views buffer (PeerTube: every 30 minutes) and the hourly
  // view stats of the hours the run spanned.
  await manager.processViewsBuffer()
  for (const hour of new Set([startHour, new Date().getHours()])) await manager.processHourlyViewStats(hour)
  await stop()

  const chart = options.chart
  const summary = buildSummary({ options, audience, sim, stored, drainedViews: stored.drainedViews, run, redisLabel: redis.label, redisPrefix: `redis-${webserverHost}-`, chart, countViewAfter: COUNT_VIEW_AFTER })
  writeFile(
    chart,
    renderChart({
      samples: sim.samples,
      marks: [{ t: run.audienceSeconds, label: 'audience gone' }],
      title: `peertube-native-views demo: one live, ${options.viewers} local + ${options.remote} remote viewers`,
      subtitle: `peak ${summary.peakViewers} concurrent; ${summary.heartbeats} heartbeats; ${summary.viewersStored} viewers stored, ${summary.watchTimeStored} s of watch time; ${summary.viewsCounted} views`,
    }),
  )
  if (options.summary) writeFile(options.summary, `${JSON.stringify(summary, null, 2)}\n`)
  process.stdout.write(formatSummary(summary))
  if (warnings.length > 0) console.log(`Engine warnings: ${warnings.length} (first: ${warnings[0]})`)
  process.exitCode = summary.ok ? 0 : 1
}

main().catch((err) => {
  console.error(err)
  process.exit(2)
})
