/* server/core/initializers/constants.ts: the view constants (ms) and the web server's address. */
export declare const WEBSERVER: {
  URL: string
  HOST: string
}
export declare const VIEW_LIFETIME: {
  VIEW: number
  VIEWER_COUNTER: number
  VIEWER_STATS: number
}
export declare let VIEWER_SYNC_REDIS: number
export declare const MAX_LOCAL_VIEWER_WATCH_SECTIONS: number
