/* server/core/models/view/video-view.ts (table "videoView": hourly views). */
export declare class VideoViewModel {
  static create(values: { startDate: Date; endDate: Date; views: number; videoId: number }): Promise<unknown>
}
