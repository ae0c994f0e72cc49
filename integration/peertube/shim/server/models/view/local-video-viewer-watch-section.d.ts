/* server/core/models/view/local-video-viewer-watch-section.ts (table "localVideoViewerWatchSection"). */
import { Transaction } from 'sequelize'
import { MLocalVideoViewerWatchSection } from '../../types/models/index.js'

export declare class LocalVideoViewerWatchSectionModel {
  static bulkCreateSections(options: {
    localVideoViewerId: number
    watchSections: { start: number; end: number }[]
    transaction?: Transaction
  }): Promise<MLocalVideoViewerWatchSection[]>
}
