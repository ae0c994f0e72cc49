/*
 * Drop-in replacement of PeerTube's server/core/lib/views/video-views-manager.ts: the same class,
 * singleton and methods, delegating to the native VideoViewsManager of peertube-native-views.
 * Options come from PeerTube's CONFIG and constants; the host callbacks are PeerTube's models
 * and senders (native-host.ts over native-ports.ts). See README.md in this folder.
 */
import config from 'config'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { VideoViewsManager as NativeVideoViewsManager } from 'peertube-native-views'
import type { GeoIpOptions, RedisOptions, VideoViewsManagerOptions, ViewsLogger } from 'peertube-native-views'
import { HttpStatusCode, VideoViewEvent } from '@peertube/peertube-models'
import * as nodeUtils from '@peertube/peertube-node-utils'
import { GeoIP } from '@server/helpers/geo-ip.js'
import { logger } from '@server/helpers/logger.js'
import { CONFIG } from '@server/initializers/config.js'
import { MAX_LOCAL_VIEWER_WATCH_SECTIONS, PEERTUBE_VERSION, VIEW_LIFETIME, VIEWER_SYNC_REDIS, WEBSERVER } from '@server/initializers/constants.js'
import { getCachedVideoDuration } from '@server/lib/video.js'
import { MVideo, MVideoImmutable } from '@server/types/models/index.js'
import { buildNativeHost, NativeHost } from './native-host.js'
import { peertubePorts } from './native-ports.js'

export type ViewerScope = 'local' | 'remote'
export type VideoScope = 'local' | 'remote'

/**
 * The GeoIP files PeerTube's GeoIP helper downloads, or `null` when GeoIP is disabled. Like
 * PeerTube's readers, a file already there is used even when its URL is now empty.
 */
function geoIpPaths (): GeoIpOptions | null {
  if (!CONFIG.GEO_IP.ENABLED) return null

  return {
    countryDatabasePath: join(CONFIG.STORAGE.BIN_DIR, 'dbip-country-lite-latest.mmdb'),
    cityDatabasePath: join(CONFIG.STORAGE.BIN_DIR, 'dbip-city-lite-latest.mmdb')
  }
}

/**
 * The host's release line for `peertubeVersion`: PeerTube's `PEERTUBE_VERSION`, except that a
 * develop build of 7.1 (early 2025) still says 7.0.1 but speaks viewers federation v2 only,
 * which shows as `isUsingViewersFederationV2` gone from node-utils (commit fcd71e14a).
 */
export function peertubeRelease (): string {
  const v2Only = !('isUsingViewersFederationV2' in nodeUtils)
  if (v2Only && /^(6\.|7\.0\.)/.test(PEERTUBE_VERSION)) return '7.1'

  return PEERTUBE_VERSION
}

/** The native manager's options from PeerTube's configuration. */
export function buildNativeOptions (host: NativeHost = buildNativeHost(peertubePorts)): VideoViewsManagerOptions {
  return {
    redis: config.get<RedisOptions>('redis'), // PeerTube's YAML section as it is
    webserverHost: WEBSERVER.HOST,
    // Files that appear or change later (PeerTube's download, GeoIPUpdateScheduler) are picked up.
    geoIp: geoIpPaths(),
    trustViewerSessionId: CONFIG.VIEWS.VIDEOS.TRUST_VIEWER_SESSION_ID === true,
    viewExpiration: CONFIG.VIEWS.VIDEOS.VIEW_EXPIRATION,
    countViewAfter: CONFIG.VIEWS.VIDEOS.COUNT_VIEW_AFTER,
    localBufferUpdateInterval: CONFIG.VIEWS.VIDEOS.LOCAL_BUFFER_UPDATE_INTERVAL,
    // The release selects the protocol and data shapes: viewersFederationV2 is left to it (v2
    // only from 7.1; before, index.js reads USE_VIEWERS_FEDERATION_V2 as PeerTube 6.1 does) and
    // user-agent stats come with 7.2.
    peertubeVersion: peertubeRelease(),
    viewerStatsLifetime: VIEW_LIFETIME.VIEWER_STATS,
    viewerCounterLifetime: VIEW_LIFETIME.VIEWER_COUNTER,
    syncRedisInterval: VIEWER_SYNC_REDIS,
    maxWatchSections: MAX_LOCAL_VIEWER_WATCH_SECTIONS,
    logger: nativeLogger(),
    host
  }
}

/** PeerTube's winston logger, called as methods (the engine calls plain functions). */
function nativeLogger (): ViewsLogger {
  return {
    level: logger.level,
    debug: (message, meta) => logger.debug(message, meta),
    info: (message, meta) => logger.info(message, meta),
    warn: (message, meta) => logger.warn(message, meta),
    error: (message, meta) => logger.error(message, meta)
  }
}

/**
 * PeerTube 6.1 does not validate `sessionId`: it keeps any truthy value of the request body (as
 * the text its template strings make of it) and identifies the viewer by IP otherwise.
 */
export function peertubeSessionId (sessionId: unknown): string | null {
  if (!sessionId) return null

  return typeof sessionId === 'string' ? sessionId : String(sessionId)
}

/** An error of the engine about its input becomes a 400 in PeerTube's error handler (`err.status`). */
export function asClientError (err: unknown): unknown {
  if (err instanceof Error && (err as Error & { code?: string }).code === 'INVALID_ARGUMENT') {
    Object.assign(err, { status: HttpStatusCode.BAD_REQUEST_400 })
  }

  return err
}

/** Longest a heartbeat waits for PeerTube's GeoIP download at start. */
const GEO_IP_WAIT_MS = 10_000

/** `promise`, or nothing after `ms`. */
function waitAtMost (promise: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout
  const timeout = new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })

  return Promise.race([ promise, timeout ]).finally(() => clearTimeout(timer))
}

export class VideoViewsManager {

  private static instance: VideoViewsManager

  private native!: NativeVideoViewsManager

  /** PeerTube's GeoIP download started by init(), until it settles (see processLocalView). */
  private geoIpDownload: Promise<void> | null = null

  private constructor () {
  }

  /** Starts the engines and their timers (stats sync and processing, counters, buffer, hourly stats). */
  init (options: VideoViewsManagerOptions = buildNativeOptions()) {
    this.native = new NativeVideoViewsManager(options)
    this.downloadGeoIpIfMissing(options.geoIp)
  }

  async processLocalView (options: {
    video: MVideoImmutable
    currentTime: number
    ip: string | null
    sessionId?: string
    viewEvent?: VideoViewEvent
    // PeerTube >= 7.2: the request's User-Agent header and the body's user-agent fields.
    userAgent?: string
    client?: string
    device?: string
    operatingSystem?: string
  }): Promise<{ successView: boolean, successViewer: boolean }> {
    const { video, currentTime, ip } = options

    // PeerTube's view rule reads the duration the same way (memoized 10 s).
    const { duration, isLive } = await getCachedVideoDuration(video.id)
    // PeerTube's first GeoIP lookups wait for the download of a missing database: so do the
    // heartbeats that arrive while it runs (a viewer is located once, when it is new).
    // At most GEO_IP_WAIT_MS: a download that hangs must not hold the heartbeats.
    if (this.geoIpDownload) await waitAtMost(this.geoIpDownload, GEO_IP_WAIT_MS)

    try {
      return await this.native.processLocalView({
        video: { id: video.id, uuid: video.uuid, remote: video.remote, duration: duration ?? null, isLive },
        currentTime,
        ip,
        sessionId: peertubeSessionId(options.sessionId),
        // Nor does it validate viewEvent: anything but 'seek' is a plain heartbeat.
        viewEvent: options.viewEvent === 'seek' ? 'seek' : null,
        // Read by the engine for PeerTube >= 7.2 only.
        userAgent: options.userAgent ?? null,
        client: options.client ?? null,
        device: options.device ?? null,
        operatingSystem: options.operatingSystem ?? null
      })
    } catch (err) {
      throw asClientError(err)
    }
  }

  async processRemoteView (options: {
    video: MVideo
    viewerId: string | null
    viewerExpires?: Date
    viewerResultCounter?: number
  }): Promise<void> {
    const { video, viewerId, viewerExpires, viewerResultCounter } = options

    await this.native.processRemoteView({
      video: { id: video.id, uuid: video.uuid, remote: video.remote },
      viewerId: viewerId ?? '',
      viewerExpires: viewerExpires ?? null,
      viewerResultCounter: viewerResultCounter ?? null
    })
  }

  getTotalViewersOf (video: Pick<MVideo, 'id'>): number {
    return this.native.getTotalViewersOf({ id: video.id })
  }

  getTotalViewers (options: {
    viewerScope: ViewerScope
    videoScope: VideoScope
  }): number {
    return this.native.getTotalViewers(options)
  }

  /** Expiry of a viewer announced with a View activity (send-view.ts). */
  buildViewerExpireTime (): number {
    return new Date().getTime() + VIEW_LIFETIME.VIEWER_COUNTER
  }

  /** Debug command `process-video-viewers`. */
  async processViewerStats (): Promise<void> {
    await this.native.processViewerStats()
  }

  /** The views buffer scheduler and the debug command `process-video-views-buffer`. */
  async processViewsBuffer (): Promise<void> {
    await this.native.processViewsBuffer()
  }

  /** The `videos-views-stats` job: views of local hour `hour` (default: the previous hour). */
  async processHourlyViewStats (hour?: number): Promise<void> {
    await this.native.processHourlyViewStats(hour)
  }

  /** On SIGTERM/SIGINT, before Redis and the database close: writes what is pending to Redis. */
  async close (): Promise<void> {
    if (this.native) await this.native.close()
  }

  /**
   * PeerTube 6.1 downloads a missing GeoIP database on its first lookup. The engine looks up
   * natively, so that download starts here, and the engine opens the files once written.
   */
  private downloadGeoIpIfMissing (paths: GeoIpOptions | null | undefined) {
    if (!paths) return

    const missing = [
      [ CONFIG.GEO_IP.COUNTRY.DATABASE_URL, paths.countryDatabasePath ],
      [ CONFIG.GEO_IP.CITY.DATABASE_URL, paths.cityDatabasePath ]
    ].some(([ url, path ]) => url && path && !existsSync(path))
    if (!missing) return

    // Downloads every database that has a URL (PeerTube's helper), then reopens them.
    this.geoIpDownload = GeoIP.Instance.updateDatabases()
      .then(() => this.native.reloadGeoIp())
      .then(() => undefined)
      .catch(err => logger.error('Cannot download GeoIP databases for the views engine.', { err }))
      .finally(() => { this.geoIpDownload = null })
  }

  static get Instance () {
    return this.instance || (this.instance = new this())
  }
}
