/* server/core/lib/peertube-socket.ts: the Socket.IO live namespace. */
import { MVideoImmutable } from '../types/models/index.js'

export declare class PeerTubeSocket {
  static get Instance(): PeerTubeSocket
  sendVideoViewsUpdate(video: MVideoImmutable, numViewers: number): void
}
