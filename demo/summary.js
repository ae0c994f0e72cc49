// The demo's closing summary: figures, and the checks that what the engine stored and
// counted equals what the simulated audience did.
'use strict'

function duration(seconds) {
  const s = Math.round(seconds)
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  return h > 0 ? `${h} h ${String(m).padStart(2, '0')} min ${String(s % 60).padStart(2, '0')} s` : m > 0 ? `${m} min ${String(s % 60).padStart(2, '0')} s` : `${s} s`
}

function buildSummary({ options, audience, sim, stored, drainedViews, run, redisLabel, redisPrefix, chart, countViewAfter }) {
  const expected = audience.local.filter((v) => v.watchTime > 0)
  const viewsExpected = audience.local.filter((v) => v.watchTime >= countViewAfter).length
  const watched = audience.local.reduce((sum, v) => sum + v.watchTime, 0)
  let storedMismatches = 0
  for (const v of audience.local) if ((stored.bySession.get(v.sessionId) || 0) !== v.watchTime) storedMismatches += 1
  const last = sim.samples[sim.samples.length - 1]
  const summary = {
    elapsedSeconds: Number(last.t.toFixed(2)),
    audienceSeconds: Number(run.audienceSeconds.toFixed(2)),
    redis: redisLabel,
    redisPrefix,
    localViewers: options.viewers,
    remoteViewers: options.remote,
    peakViewers: sim.peak.viewers,
    peakAtSeconds: Number(sim.peak.at.toFixed(1)),
    peakRemoteViewers: sim.peak.remote,
    finalViewers: last.viewers,
    heartbeats: sim.totals.heartbeats,
    heartbeatErrors: sim.totals.heartbeatErrors,
    errorCodes: sim.totals.errorCodes,
    peakHeartbeatsPerSecond: Math.round(sim.peak.heartbeatsPerSecond),
    seeks: sim.totals.seeks,
    remoteRenewals: sim.totals.remoteRenewals,
    viewersExpectedStored: expected.length,
    viewersStored: stored.viewers,
    viewersWithoutWatchTime: options.viewers - expected.length,
    storedMismatches,
    watchTimeWatched: watched,
    watchTimeStored: stored.watchTime,
    viewsCounted: sim.totals.views,
    viewsExpected,
    viewsDrained: drainedViews,
    drained: run.drained,
    chart,
  }
  summary.checks = {
    'every heartbeat accepted': summary.heartbeatErrors === 0,
    'every viewer with watch time stored once': summary.viewersStored === summary.viewersExpectedStored,
    'stored watch time = watched, viewer by viewer': summary.storedMismatches === 0 && summary.watchTimeStored === summary.watchTimeWatched,
    'views counted = expected = drained': summary.viewsCounted === viewsExpected && summary.viewsDrained === viewsExpected,
    'viewers back to 0': summary.finalViewers === 0,
  }
  summary.ok = Object.values(summary.checks).every(Boolean)
  return summary
}

function formatSummary(s) {
  const mark = (ok) => (ok ? 'ok' : 'FAILED')
  const lines = [
    '',
    'Summary',
    `  run            ${s.elapsedSeconds.toFixed(1)} s: ${s.audienceSeconds.toFixed(1)} s of audience, then the drain; Redis ${s.redis}`,
    `  viewers        ${s.localViewers} local + ${s.remoteViewers} remote; peak ${s.peakViewers} concurrent at ${s.peakAtSeconds} s (${s.peakRemoteViewers} remote at most)`,
    `  heartbeats     ${s.heartbeats} accepted (${s.seeks} seeks), ${s.heartbeatErrors} refused; peak ${s.peakHeartbeatsPerSecond}/s; ${s.remoteRenewals} remote View renewals`,
    `  stored         ${s.viewersStored} viewers via saveViewerStats (expected ${s.viewersExpectedStored}); ${s.viewersWithoutWatchTime} left with no watch time (not stored, as in PeerTube)`,
    `  watch time     ${duration(s.watchTimeStored)} stored, ${duration(s.watchTimeWatched)} watched (${s.watchTimeStored} s / ${s.watchTimeWatched} s; ${s.storedMismatches} viewers differ)`,
    `  views          ${s.viewsCounted} counted, ${s.viewsDrained} drained from the buffer, ${s.viewsExpected} expected (watch time >= 10 s)`,
    `  chart          ${s.chart}`,
    'Checks',
    ...Object.entries(s.checks).map(([name, ok]) => `  ${mark(ok).padEnd(6)} ${name}`),
  ]
  return `${lines.join('\n')}\n`
}

module.exports = { buildSummary, formatSummary, duration }
