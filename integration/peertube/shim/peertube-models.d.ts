/* @peertube/peertube-models (packages/models/src/videos/video-view.model.ts). */
export type VideoViewEvent = 'seek'
