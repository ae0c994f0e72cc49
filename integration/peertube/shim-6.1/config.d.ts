/* PeerTube 6.1, server/core/initializers/config.ts: 6.0.4's CONFIG plus the keys 6.1 added. */
import { CONFIG as CONFIG_6_0 } from '../../../node_modules/@peertube/peertube-types/server/core/initializers/config.js'

export * from '../../../node_modules/@peertube/peertube-types/server/core/initializers/config.js'

export declare const CONFIG: typeof CONFIG_6_0 & {
  VIEWS: {
    VIDEOS: {
      VIEW_EXPIRATION: number
      COUNT_VIEW_AFTER: number
      TRUST_VIEWER_SESSION_ID: boolean
    }
  }
  GEO_IP: {
    CITY: {
      DATABASE_URL: string
    }
  }
}
