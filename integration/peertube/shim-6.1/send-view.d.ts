/* PeerTube 6.1, server/core/lib/activitypub/send/send-view.ts (6.0.4 took `type` instead of `viewersCount`). */
import { Transaction } from 'sequelize'
import { MActorLight, MVideoImmutable } from '@server/types/models/index.js'

export declare function sendView (options: {
  byActor: MActorLight
  video: MVideoImmutable
  viewerIdentifier: string
  viewersCount?: number
  transaction?: Transaction
}): Promise<any>
