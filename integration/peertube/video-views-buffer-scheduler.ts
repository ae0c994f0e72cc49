/*
 * Drop-in replacement of PeerTube's server/core/lib/schedulers/video-views-buffer-scheduler.ts.
 * The buffer of local views is drained by the native engine: one atomic GET, DEL and SREM per
 * batch of videos, then `views += n` and an Update through the host, so a view counted during
 * a drain is never lost (PeerTube's GET then DEL could drop it).
 */
import { SCHEDULER_INTERVALS_MS } from '@server/initializers/constants.js'
import { AbstractScheduler } from '@server/lib/schedulers/abstract-scheduler.js'
import { VideoViewsManager } from '@server/lib/views/video-views-manager.js'

export class VideoViewsBufferScheduler extends AbstractScheduler {

  private static instance: AbstractScheduler

  protected schedulerIntervalMs = SCHEDULER_INTERVALS_MS.VIDEO_VIEWS_BUFFER_UPDATE

  private constructor () {
    super()
  }

  protected async internalExecute () {
    await VideoViewsManager.Instance.processViewsBuffer()
  }

  static get Instance () {
    return this.instance || (this.instance = new this())
  }
}
