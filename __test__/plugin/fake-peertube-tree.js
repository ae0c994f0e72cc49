// A fake built PeerTube 6.1 on disk, for the plugin's takeover mode: ES modules at the paths the
// compiled adapter imports (dist/core/...), its packages in node_modules, and a stock views
// manager that behaves as PeerTube's for one viewer's stats (cache in front of Redis, pending
// writes synced to Redis in PeerTube's JSON). Every module reads its state from
// `globalThis.fakePeerTube`, which the test fills (a Redis client, recorded calls, config).
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const F = 'globalThis.fakePeerTube'

const FILES = {
  'package.json': JSON.stringify({ name: 'peertube', version: '6.1.0', type: 'module' }),
  'node_modules/config/package.json': JSON.stringify({ name: 'config', main: 'index.js' }),
  'node_modules/config/index.js': `module.exports = { get: (key) => ${F}.config[key] }\n`,
  'node_modules/@peertube/peertube-models/package.json': JSON.stringify({ name: '@peertube/peertube-models', type: 'module', exports: { default: './index.js' } }),
  'node_modules/@peertube/peertube-models/index.js': 'export const HttpStatusCode = { BAD_REQUEST_400: 400 }\n',
  'node_modules/@peertube/peertube-node-utils/package.json': JSON.stringify({ name: '@peertube/peertube-node-utils', type: 'module', exports: { default: './index.js' } }),
  'node_modules/@peertube/peertube-node-utils/index.js': 'export const isUsingViewersFederationV2 = () => true\nexport const isTestOrDevInstance = () => true\n',
  'dist/server.js': '// not run\n',
  'dist/core/helpers/logger.js': `export const logger = ${F}.logger\n`,
  'dist/core/helpers/geo-ip.js': 'export const GeoIP = { Instance: { updateDatabases: async () => {} } }\n',
  'dist/core/initializers/config.js': `export const CONFIG = ${F}.CONFIG\n`,
  'dist/core/initializers/constants.js': [
    `export const WEBSERVER = ${F}.WEBSERVER`,
    'export const VIEW_LIFETIME = { VIEW: 3600000, VIEWER_COUNTER: 3600000, VIEWER_STATS: 3600000 }',
    'export const VIEWER_SYNC_REDIS = 3600000',
    'export const MAX_LOCAL_VIEWER_WATCH_SECTIONS = 100',
    "export const PEERTUBE_VERSION = '6.1.0'",
    'export const SCHEDULER_INTERVALS_MS = { VIDEO_VIEWS_BUFFER_UPDATE: 3600000 }',
    '',
  ].join('\n'),
  'dist/core/initializers/database.js': 'export const sequelizeTypescript = { transaction: (work) => work({}) }\n',
  'dist/core/lib/video.js': `export const getCachedVideoDuration = async (id) => ${F}.durations[id]\n`,
  'dist/core/lib/activitypub/send/index.js': `export const sendCreateWatchAction = async () => {}\n`,
  'dist/core/lib/activitypub/send/send-view.js': `export const sendView = async (options) => ${F}.calls.views.push(options.viewerIdentifier)\n`,
  'dist/core/lib/activitypub/videos/index.js': `export const federateVideoIfNeeded = async (video) => ${F}.calls.federated.push(video.id)\n`,
  'dist/core/lib/peertube-socket.js': 'export const PeerTubeSocket = { Instance: { sendVideoViewsUpdate: () => {} } }\n',
  'dist/core/models/application/application.js': "export const getServerActor = async () => ({ url: 'http://fake/accounts/peertube' })\n",
  'dist/core/models/video/video.js': [
    'export class VideoModel {',
    `  static async load (id) { return ${F}.videos[id] ?? null }`,
    `  static async loadImmutableAttributes (id) { return ${F}.videos[id] ?? null }`,
    `  static async loadFull (id) { return ${F}.videos[id] ? { ...${F}.videos[id] } : null }`,
    `  static async incrementViews (id, views) { ${F}.calls.increments.push({ id, views }) }`,
    '}',
    '',
  ].join('\n'),
  'dist/core/models/view/local-video-viewer.js': `export class LocalVideoViewerModel { static async create (row) { ${F}.calls.stored.push(row); return { id: ${F}.calls.stored.length, ...row } } }\n`,
  'dist/core/models/view/local-video-viewer-watch-section.js': `export class LocalVideoViewerWatchSectionModel { static async bulkCreateSections ({ watchSections }) { ${F}.calls.sections.push(watchSections); return watchSections } }\n`,
  'dist/core/models/view/video-view.js': `export class VideoViewModel { static async create (row) { ${F}.calls.hourly.push(row) } }\n`,
  'dist/core/lib/redis.js': [
    'export class Redis {',
    '  static Instance = new Redis()',
    `  async listVideosViewedForStats (hour) { ${F}.calls.stockHourly.push(hour); return [] }`,
    '}',
    '',
  ].join('\n'),
  'dist/core/lib/schedulers/video-views-buffer-scheduler.js': [
    'export class VideoViewsBufferScheduler {',
    '  static Instance = new VideoViewsBufferScheduler()',
    '  execute () { return this.internalExecute() }',
    `  async internalExecute () { ${F}.calls.stockDrains += 1 }`,
    '}',
    '',
  ].join('\n'),
  // PeerTube 6.1's VideoViewerStats, reduced to one viewer's sections: a cache in front of
  // Redis, writes kept pending until syncRedisWrites(), PeerTube's key and JSON.
  'dist/core/lib/views/video-views-manager.js': `
const key = (sessionId, videoId) => 'local-video-viewer-stats-' + sessionId + '-' + videoId
class VideoViewerStats {
  viewerCache = new Map()
  redisPendingWrites = new Map()
  async addLocalViewer ({ video, currentTime, sessionId, viewEvent }) {
    const k = key(sessionId, video.id)
    const { redis, prefix } = ${F}
    let stats = this.viewerCache.get(k) ?? JSON.parse(await redis.get(prefix + k))
    if (!stats) stats = { firstUpdated: Date.now(), lastUpdated: Date.now(), watchSections: [], watchTime: 0, country: null, subdivisionName: null, videoId: video.id }
    stats.lastUpdated = Date.now()
    const last = stats.watchSections[stats.watchSections.length - 1]
    if (viewEvent === 'seek' || !last || last.start > currentTime) stats.watchSections.push({ start: currentTime, end: currentTime })
    else last.end = currentTime
    stats.watchTime = stats.watchSections.reduce((s, x) => s + x.end - x.start, 0)
    this.viewerCache.set(k, stats)
    this.redisPendingWrites.set(k, stats)
  }
  async syncRedisWrites () {
    const { redis, prefix } = ${F}
    for (const [k, stats] of this.redisPendingWrites) {
      this.redisPendingWrites.delete(k)
      await redis.multi().sadd(prefix + 'local-video-viewer-stats-keys', k).set(prefix + k, JSON.stringify(stats)).exec()
    }
  }
  async processViewerStats () { ${F}.calls.stockProcessing += 1 }
}
export class VideoViewsManager {
  static instance
  init () { this.videoViewerStats = new VideoViewerStats() }
  async processLocalView (options) {
    await this.videoViewerStats.addLocalViewer(options)
    ${F}.calls.stockViews += 1
    return { successView: false, successViewer: false }
  }
  async processRemoteView () {}
  getTotalViewersOf () { return -1 }
  getTotalViewers () { return -1 }
  buildViewerExpireTime () { return 0 }
  processViewerStats () { return this.videoViewerStats.processViewerStats() }
  static get Instance () { return this.instance || (this.instance = new this()) }
}
`,
}

/** Writes the tree; returns its root. */
function writeFakePeerTubeTree() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-peertube-run-'))
  for (const [rel, text] of Object.entries(FILES)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
    fs.writeFileSync(path.join(root, rel), text)
  }
  return fs.realpathSync(root)
}

module.exports = { writeFakePeerTubeTree }
