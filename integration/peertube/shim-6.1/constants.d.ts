/* PeerTube 6.1, server/core/initializers/constants.ts: 6.0.4's constants plus what 6.1 added. */
export * from '../../../node_modules/@peertube/peertube-types/server/core/initializers/constants.js'

/** Period of the viewer stats sync to Redis, ms (6.1). */
export declare let VIEWER_SYNC_REDIS: number
