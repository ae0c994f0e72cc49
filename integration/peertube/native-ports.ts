/*
 * PeerTube's models and senders as the ports of the native host (native-host.ts): the same
 * calls PeerTube 6.1's VideoViewerStats, VideoViewerCounters, VideoViews, the views buffer
 * scheduler and the videos-views-stats job make.
 */
import { Transaction } from 'sequelize'
import { WEBSERVER } from '@server/initializers/constants.js'
import { sequelizeTypescript } from '@server/initializers/database.js'
import { sendCreateWatchAction } from '@server/lib/activitypub/send/index.js'
import { sendView } from '@server/lib/activitypub/send/send-view.js'
import { federateVideoIfNeeded } from '@server/lib/activitypub/videos/index.js'
import { PeerTubeSocket } from '@server/lib/peertube-socket.js'
import { getServerActor } from '@server/models/application/application.js'
import { VideoModel } from '@server/models/video/video.js'
import { LocalVideoViewerWatchSectionModel } from '@server/models/view/local-video-viewer-watch-section.js'
import { LocalVideoViewerModel } from '@server/models/view/local-video-viewer.js'
import { VideoViewModel } from '@server/models/view/video-view.js'
import {
  MLocalVideoViewer,
  MLocalVideoViewerWatchSection,
  MVideo,
  MVideoFullLight,
  MVideoImmutable
} from '@server/types/models/index.js'
import type { ViewsPorts } from './native-host.js'

export interface PeerTubePortTypes {
  tx: Transaction
  video: MVideo
  viewer: MLocalVideoViewer
  section: MLocalVideoViewerWatchSection
  fullVideo: MVideoFullLight
  immutableVideo: MVideoImmutable
}

export const peertubePorts: ViewsPorts<PeerTubePortTypes> = {
  transaction: work => sequelizeTypescript.transaction(t => work(t)),

  loadVideo: (id, t) => VideoModel.load(id, t),

  createLocalViewer: (row, t) => LocalVideoViewerModel.create(row, { transaction: t }),

  createWatchSections: ({ localVideoViewerId, watchSections }, t) =>
    LocalVideoViewerWatchSectionModel.bulkCreateSections({ localVideoViewerId, watchSections, transaction: t }),

  sendCreateWatchAction: ({ viewer, video, sections }, t) => {
    // What toActivityPubObject() reads: the video's url and the sections.
    const stats = Object.assign(viewer, { Video: video, WatchSections: sections })
    return sendCreateWatchAction(stats, t)
  },

  localViewerUrl: uuid => WEBSERVER.URL + '/videos/local-viewer/' + uuid,

  loadImmutableVideo: id => VideoModel.loadImmutableAttributes(id),

  // sendVideoViewsUpdate reads `id` (the Socket.IO room) and `url` (a debug log) only; the
  // engine's { id, uuid, remote } is enough for the room.
  notifyClients: (video, totalViewers) =>
    PeerTubeSocket.Instance.sendVideoViewsUpdate(video as MVideoImmutable, totalViewers),

  sendView: async ({ video, viewersCount, viewerIdentifier }) =>
    sendView({ byActor: await getServerActor(), video, viewersCount, viewerIdentifier }),

  loadFullVideo: id => VideoModel.loadFull(id),

  incrementViews: (videoId, views) => VideoModel.incrementViews(videoId, views),

  federateVideo: video => federateVideoIfNeeded(video, false),

  createHourlyViews: row => VideoViewModel.create(row)
}
