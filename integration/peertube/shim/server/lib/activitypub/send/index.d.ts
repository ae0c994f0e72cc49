/* server/core/lib/activitypub/send/{send-create,send-view}.ts. */
import { Transaction } from 'sequelize'
import { MActorLight, MLocalVideoViewerWithWatchSections, MVideoImmutable } from '../../../types/models/index.js'

export declare function sendCreateWatchAction(stats: MLocalVideoViewerWithWatchSections, transaction: Transaction): Promise<void>

export declare function sendView(options: {
  byActor: MActorLight
  video: MVideoImmutable
  viewersCount?: number
  viewerIdentifier: string
  transaction?: Transaction
}): Promise<void>
