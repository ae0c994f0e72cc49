/*
 * PeerTube 8.x has no source here: this file checks the adapter's 8.x data paths against
 * PeerTube's published declarations, @peertube/peertube-types 8.2.3 (one bundle; its server
 * classes and CONFIG are not exported, its model and REST types are). `npm run typecheck:8`.
 */
import type {
  MLocalVideoViewer,
  VideoStatsUserAgentDevice,
  VideoView
} from '@peertube/peertube-types-8'
import type { LocalViewRequest, ViewerStatsRecord } from 'peertube-native-views'
import { LocalViewerRow, userAgentColumns } from '../native-host.js'

/** `true` only when A and B are the same type. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

// The row native-host.ts writes is a set of LocalVideoViewerModel (8.x) attributes.
export function toModelAttributes (row: LocalViewerRow): Partial<Pick<MLocalVideoViewer, keyof LocalViewerRow>> {
  return row
}

// The record's user-agent fields become the row's three columns.
export function rowColumns (viewer: ViewerStatsRecord): Pick<MLocalVideoViewer, 'client' | 'device' | 'operatingSystem'> {
  const { client, device, operatingSystem } = userAgentColumns(viewer)
  return { client, device, operatingSystem }
}

// The device names are PeerTube's, exactly.
export const devicesAreTheSame: Same<VideoStatsUserAgentDevice, NonNullable<ViewerStatsRecord['device']>> = true

// `POST /api/v1/videos/{id}/views`: the body (VideoView) and the User-Agent header go into the
// engine's request as the adapter passes them.
export function requestOf (body: VideoView, userAgent: string | undefined): Pick<LocalViewRequest, 'currentTime' | 'sessionId' | 'userAgent' | 'client' | 'device' | 'operatingSystem'> {
  return {
    currentTime: body.currentTime,
    sessionId: body.sessionId,
    userAgent,
    client: body.client,
    device: body.device,
    operatingSystem: body.operatingSystem
  }
}
