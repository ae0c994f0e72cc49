/* server/core/lib/video.ts: the memoized (10 s) duration lookup of the view rule. */
export declare const getCachedVideoDuration: (videoId: number | string) => Promise<{ duration: number | undefined; isLive: boolean }>
