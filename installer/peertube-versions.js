// The PeerTube releases the installer knows: for each, the compiled files it replaces (by their
// SHA-256 in PeerTube's own build, so a modified PeerTube is refused), the adapter compiled for
// that line and the one statement of dist/server.js it patches. One declaration per release:
// scripts/build-adapter.js, the installer and its tests read this table.
'use strict'

/** The adapter of PeerTube 6.1: TypeScript source -> path under PeerTube's dist/. */
const ADAPTER_6_1 = {
  'integration/peertube/video-views-manager.ts': 'core/lib/views/video-views-manager.js',
  'integration/peertube/native-host.ts': 'core/lib/views/native-host.js',
  'integration/peertube/native-ports.ts': 'core/lib/views/native-ports.js',
  'integration/peertube/video-views-buffer-scheduler.ts': 'core/lib/schedulers/video-views-buffer-scheduler.js',
  'integration/peertube/video-views-stats.ts': 'core/lib/job-queue/handlers/video-views-stats.js',
}

/** PeerTube's SIGINT handler exits at once; the patched one closes the views engine first (SIGTERM too). */
const SHUTDOWN_PATCH = {
  find: "    process.on('SIGINT', () => process.exit(0));\n",
  replace: [
    '    const nativeViewsShutdown = () => {',
    '        setTimeout(() => process.exit(0), 10000).unref();',
    '        VideoViewsManager.Instance.close()',
    "            .catch(err => logger.error('Cannot close the views engine.', { err }))",
    '            .finally(() => process.exit(0));',
    '    };',
    "    process.on('SIGINT', nativeViewsShutdown);",
    "    process.on('SIGTERM', nativeViewsShutdown);",
    '',
  ].join('\n'),
}

/** Adapters by name: what scripts/build-adapter.js compiles into peertube/<name>/. */
const ADAPTERS = { '6.1': ADAPTER_6_1 }

/**
 * Supported releases. `originals`: SHA-256 of each file the installer changes, as PeerTube's
 * `npm run build:server` of that tag writes it (measured on v6.1.0, commit 46b45dc51dad).
 */
const RELEASES = {
  '6.1.0': {
    adapter: '6.1',
    originals: {
      'dist/core/lib/views/video-views-manager.js': '8d2252a93874a4ed1b3a9d4dc938093cbfd1b394ac864cc6e34efe971ae67c2f',
      'dist/core/lib/schedulers/video-views-buffer-scheduler.js': 'd85fb7f5446be1064e7a2585eb036c53b4db31f571e916d203ee70c818f1457e',
      'dist/core/lib/job-queue/handlers/video-views-stats.js': 'dd4b3dc491b70017a6c4a7561e1a9b26f6e15dfb4b6a06e360669c33a9a08ff9',
      'dist/server.js': '8b870871b17334dee8dc8299be975925cbea553dcc71b26442e55325c83d51f1',
    },
    patches: { 'dist/server.js': [SHUTDOWN_PATCH] },
  },
}

module.exports = { ADAPTERS, RELEASES, SHUTDOWN_PATCH }
