/* @peertube/peertube-node-utils (packages/node-utils/src/env.ts). */
export declare function isUsingViewersFederationV2(): boolean
export declare function isTestOrDevInstance(): boolean
