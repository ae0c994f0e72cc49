/*
 * Drop-in replacement of PeerTube's server/core/lib/job-queue/handlers/video-views-stats.ts (the
 * `videos-views-stats` job): the views of one local hour, drained atomically by the native
 * engine into `videoView` rows.
 */
import { isTestOrDevInstance } from '@peertube/peertube-node-utils'
import { VideoViewsManager } from '@server/lib/views/video-views-manager.js'

async function processVideosViewsStats () {
  const lastHour = new Date()

  // In test mode PeerTube runs this job several times per hour, on the current hour
  if (!isTestOrDevInstance()) lastHour.setHours(lastHour.getHours() - 1)

  await VideoViewsManager.Instance.processHourlyViewStats(lastHour.getHours())
}

export {
  processVideosViewsStats
}
