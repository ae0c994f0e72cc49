/* server/core/models/view/local-video-viewer.ts (table "localVideoViewer"). */
import { Transaction } from 'sequelize'
import { MLocalVideoViewer } from '../../types/models/index.js'

export declare class LocalVideoViewerModel {
  static create(values: {
    startDate: Date
    endDate: Date
    watchTime: number
    country: string | null
    subdivisionName: string | null
    uuid?: string
    url: string
    videoId: number
  }, options?: { transaction?: Transaction }): Promise<MLocalVideoViewer>
}
