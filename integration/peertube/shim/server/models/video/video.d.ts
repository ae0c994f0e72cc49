/* server/core/models/video/video.ts: the loaders and the views increment. */
import { Transaction } from 'sequelize'
import { MVideo, MVideoFull, MVideoImmutable } from '../../types/models/index.js'

export declare class VideoModel {
  static load(id: number | string, transaction?: Transaction): Promise<MVideo>
  static loadImmutableAttributes(id: number | string, t?: Transaction): Promise<MVideoImmutable>
  static loadFull(id: number | string, t?: Transaction, userId?: number): Promise<MVideoFull>
  static incrementViews(id: number, views: number): Promise<unknown>
}
