/* PeerTube 6.1, packages/node-utils/src/env.ts (the types package does not ship node-utils). */
export declare function isUsingViewersFederationV2 (): boolean
export declare function isTestOrDevInstance (): boolean
