/* server/core/types/models: the model shapes the adapter touches. */
export interface MActorLight {
  id: number
  url: string
}

export interface MVideo {
  id: number
  uuid: string
  url: string
  name: string
  remote: boolean
  isLive: boolean
  duration: number
  views: number
  isOwned(): boolean
}

export type MVideoImmutable = Pick<MVideo, 'id' | 'url' | 'uuid' | 'remote' | 'isOwned'>
export type MVideoAPLight = MVideo & { VideoChannel: unknown }
export type MVideoFullLight = MVideoAPLight
export type MVideoFull = MVideoFullLight & { Tags: unknown[] }

export interface MLocalVideoViewer {
  id: number
  uuid: string
  url: string
  startDate: Date
  endDate: Date
  watchTime: number
  country: string | null
  subdivisionName: string | null
  videoId: number
}

export interface MLocalVideoViewerWatchSection {
  id: number
  watchStart: number
  watchEnd: number
  localVideoViewerId: number
}

export type MLocalVideoViewerWithWatchSections = MLocalVideoViewer & {
  Video: MVideo
  WatchSections: MLocalVideoViewerWatchSection[]
}
