/*
 * The host callbacks of the native VideoViewsManager, built over a few "ports": the PeerTube
 * models and senders they need (native-ports.ts wires PeerTube's; the Postgres test wires `pg`).
 * The logic is PeerTube 6.1's: one SQL transaction per expired viewer (localVideoViewer row, its
 * watch sections, and a WatchAction for a remote video), `views += n` then an Update, one
 * hourly videoView row.
 */
import { randomUUID } from 'node:crypto'
import type { VideoViewsManagerOptions, ViewActivity, ViewerStatsRecord, WatchSection } from 'peertube-native-views'

export type NativeHost = VideoViewsManagerOptions['host']

/** The video as the native engine knows it. */
export interface NativeVideo {
  id: number
  uuid: string
  remote: boolean
}

/** One `localVideoViewer` row, as PeerTube's `saveViewerStats` builds it. */
export interface LocalViewerRow {
  startDate: Date
  endDate: Date
  watchTime: number
  country: string | null
  subdivisionName: string | null
  /** PeerTube >= 7.2's user-agent columns; absent for older releases (their tables lack them). */
  client?: string | null
  device?: string | null
  operatingSystem?: string | null
  uuid: string
  url: string
  videoId: number
}

/** One `videoView` row (hourly views of a video). */
export interface HourlyViewsRow {
  startDate: Date
  endDate: Date
  views: number
  videoId: number
}

/** The host's own types: what PeerTube (or a test) stores and loads. */
export interface PortTypes {
  /** A SQL transaction. */
  tx: unknown
  /** A video loaded in a transaction (`VideoModel.load`). */
  video: { id?: number; remote: boolean }
  /** A stored localVideoViewer row (`id` is optional on Sequelize models). */
  viewer: { id?: number }
  /** A stored watch section. */
  section: unknown
  /** A video loaded with everything federation needs (`VideoModel.loadFull`). */
  fullVideo: { views: number }
  /** A video with its immutable attributes (`VideoModel.loadImmutableAttributes`). */
  immutableVideo: { id?: number; uuid: string; remote: boolean }
}

/** What the host needs from PeerTube. */
export interface ViewsPorts<T extends PortTypes> {
  /** Runs `work` in one SQL transaction: committed when it resolves, rolled back when it throws. */
  transaction<R>(work: (t: T['tx']) => Promise<R>): Promise<R>
  /** `VideoModel.load(id, t)`: `null` when the video was deleted. */
  loadVideo(id: number, t: T['tx']): Promise<T['video'] | null>
  createLocalViewer(row: LocalViewerRow, t: T['tx']): Promise<T['viewer']>
  /** One row per section, `watchStart = start || 0`, `watchEnd = end || 0`. */
  createWatchSections(input: { localVideoViewerId: number; watchSections: WatchSection[] }, t: T['tx']): Promise<T['section'][]>
  /** `sendCreateWatchAction(viewer, t)` with `viewer.Video` and `viewer.WatchSections` set. */
  sendCreateWatchAction(input: { viewer: T['viewer']; video: T['video']; sections: T['section'][] }, t: T['tx']): Promise<unknown>
  /** `WEBSERVER.URL + '/videos/local-viewer/' + uuid` (getLocalVideoViewerActivityPubUrl). */
  localViewerUrl(uuid: string): string

  /** `VideoModel.loadImmutableAttributes(id)`: `null` when the video was deleted. */
  loadImmutableVideo(id: number): Promise<T['immutableVideo'] | null>
  /** `PeerTubeSocket.Instance.sendVideoViewsUpdate(video, totalViewers)`; `video` is the engine's. */
  notifyClients(video: NativeVideo, totalViewers: number): void
  /** `sendView({ byActor: serverActor, video, viewersCount, viewerIdentifier })` with the loaded video. */
  sendView(input: { video: T['immutableVideo']; viewersCount?: number; viewerIdentifier: string }): Promise<unknown>

  /** `VideoModel.loadFull(id)`. */
  loadFullVideo(id: number): Promise<T['fullVideo'] | null>
  /** `VideoModel.incrementViews(id, views)`: `views = views + n` in SQL. */
  incrementViews(videoId: number, views: number): Promise<unknown>
  /** `federateVideoIfNeeded(video, false)`: an Update carrying the new `views`. */
  federateVideo(video: T['fullVideo']): Promise<unknown>
  /** `VideoViewModel.create(row)`. */
  createHourlyViews(row: HourlyViewsRow): Promise<unknown>
}

/** The record's user-agent fields (PeerTube >= 7.2), `null` when unknown; none for older releases. */
export function userAgentColumns (viewer: ViewerStatsRecord): Pick<LocalViewerRow, 'client' | 'device' | 'operatingSystem'> {
  if (viewer.client === undefined && viewer.device === undefined && viewer.operatingSystem === undefined) return {}

  return { client: viewer.client ?? null, device: viewer.device ?? null, operatingSystem: viewer.operatingSystem ?? null }
}

/** The six callbacks of `new VideoViewsManager({ host })`. */
export function buildNativeHost<T extends PortTypes> (ports: ViewsPorts<T>): NativeHost {
  return {
    // Resolving means "stored" (the engine deletes the Redis entry); throwing rolls the
    // transaction back and the engine keeps the viewer for its next pass.
    saveViewerStats: (viewer: ViewerStatsRecord) => ports.transaction(async t => {
      const video = await ports.loadVideo(viewer.videoId, t)
      if (!video) return // deleted video: nothing to store, the viewer is dropped (as PeerTube)
      if (viewer.watchTime === 0) return // never sent by the engine; PeerTube writes no row either

      const uuid = randomUUID()
      const row = await ports.createLocalViewer({
        startDate: new Date(viewer.firstUpdated),
        endDate: new Date(viewer.lastUpdated),
        watchTime: viewer.watchTime,
        country: viewer.country,
        subdivisionName: viewer.subdivisionName,
        ...userAgentColumns(viewer),
        uuid,
        url: ports.localViewerUrl(uuid),
        videoId: video.id
      }, t)
      const sections = await ports.createWatchSections({ localVideoViewerId: row.id, watchSections: viewer.watchSections }, t)

      if (video.remote) await ports.sendCreateWatchAction({ viewer: row, video, sections }, t)
    }),

    // The engine keeps `{ id, uuid, remote }`, not the model.
    loadVideo: async id => {
      const video = await ports.loadImmutableVideo(id)
      return video && { id, uuid: video.uuid, remote: video.remote }
    },

    notifyClients: (video, totalViewers) => ports.notifyClients(video, totalViewers),

    sendView: async ({ video, viewersCount, viewerIdentifier }: ViewActivity) => {
      // The engine's video is { id, uuid, remote }; the sender needs the model (url, actors).
      const loaded = await ports.loadImmutableVideo(video.id)
      if (!loaded) return
      await ports.sendView(viewersCount === undefined
        ? { video: loaded, viewerIdentifier }
        : { video: loaded, viewersCount, viewerIdentifier })
    },

    incrementVideoViews: async ({ videoId, views }) => {
      const video = await ports.loadFullVideo(videoId)
      if (!video) return // deleted: the buffered views go with it (as PeerTube)

      await ports.incrementViews(videoId, views)
      video.views += views
      await ports.federateVideo(video)
    },

    saveHourlyViews: async ({ videoId, views, startDate, endDate }) => {
      if (!views) return
      const video = await ports.loadImmutableVideo(videoId)
      if (!video) return

      await ports.createHourlyViews({ startDate, endDate, views, videoId })
    }
  }
}
