/* server/core/lib/activitypub/videos/federate.ts. */
import { Transaction } from 'sequelize'
import { MVideoAPLight } from '../../../types/models/index.js'

export declare function federateVideoIfNeeded(videoArg: MVideoAPLight, isNewVideo: boolean, transaction?: Transaction): Promise<void>
