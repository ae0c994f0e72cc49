/* server/core/helpers/logger.ts: PeerTube's winston logger. */
export interface LeveledLogMethod {
  (message: string, ...meta: any[]): Logger
  (message: any): Logger
}
export interface Logger {
  level: string
  debug: LeveledLogMethod
  info: LeveledLogMethod
  warn: LeveledLogMethod
  error: LeveledLogMethod
}
export declare const logger: Logger
export declare function loggerTagsFactory(...defaultTags: string[]): (...tags: string[]) => { tags: string[] }
