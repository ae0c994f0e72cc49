/* server/core/initializers/config.ts: the parts of CONFIG the adapter reads (durations in ms). */
export declare const CONFIG: {
  STORAGE: { BIN_DIR: string }
  GEO_IP: {
    ENABLED: boolean
    COUNTRY: { DATABASE_URL: string }
    CITY: { DATABASE_URL: string }
  }
  VIEWS: {
    VIDEOS: {
      REMOTE: { MAX_AGE: number }
      LOCAL_BUFFER_UPDATE_INTERVAL: number
      VIEW_EXPIRATION: number
      COUNT_VIEW_AFTER: number
      TRUST_VIEWER_SESSION_ID: boolean
      WATCHING_INTERVAL: { ANONYMOUS: number; USERS: number }
    }
  }
}
