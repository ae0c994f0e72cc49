/* server/core/models/application/application.ts. */
import { MActorLight } from '../../types/models/index.js'

export declare function getServerActor(): Promise<MActorLight>
