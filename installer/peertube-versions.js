// The PeerTube builds the installer knows: for each, the compiled files it replaces (by their
// SHA-256 in PeerTube's own build, so a modified PeerTube is refused), the adapter compiled for
// that line and the one statement of dist/server.js it patches. One declaration per build:
// scripts/build-adapter.js, the installer, the plugin's takeover and their tests read this table.
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

/**
 * Adapters by name: what scripts/build-adapter.js compiles into peertube/<name>/. The 6.1 line
 * serves 6.1, 7.0 and the 7.1 develop build: the files it imports did not change (checked
 * import by import on each commit).
 */
const ADAPTERS = { '6.1': ADAPTER_6_1 }

/** What PeerTube's `npm run build:server` writes for the three views files, unchanged from 6.1.0 to the 2025-02-24 develop commit. */
const VIEWS_FILES_6_1_TO_7_1 = {
  'dist/core/lib/views/video-views-manager.js': '8d2252a93874a4ed1b3a9d4dc938093cbfd1b394ac864cc6e34efe971ae67c2f',
  'dist/core/lib/schedulers/video-views-buffer-scheduler.js': 'd85fb7f5446be1064e7a2585eb036c53b4db31f571e916d203ee70c818f1457e',
  'dist/core/lib/job-queue/handlers/video-views-stats.js': 'dd4b3dc491b70017a6c4a7561e1a9b26f6e15dfb4b6a06e360669c33a9a08ff9',
}

/**
 * The builds the installer recognises. `version`: PeerTube's package.json version; `originals`:
 * SHA-256 of each file the installer changes, as that commit's `npm run build:server` writes it
 * (measured here on each commit, Node 20.20.2), so a modified PeerTube is refused;
 * `peertubeVersion`: the release line the engine speaks (the adapter also detects 7.1's v2-only
 * federation by itself, since the develop build still says 7.0.1).
 */
const BUILDS = [
  {
    name: 'v6.1.0 (46b45dc51dad)',
    version: '6.1.0',
    peertubeVersion: '6.1',
    adapter: '6.1',
    originals: { ...VIEWS_FILES_6_1_TO_7_1, 'dist/server.js': '8b870871b17334dee8dc8299be975925cbea553dcc71b26442e55325c83d51f1' },
    patches: { 'dist/server.js': [SHUTDOWN_PATCH] },
  },
  {
    name: 'v7.0.1 (8e8d9f935)',
    version: '7.0.1',
    peertubeVersion: '7.0',
    adapter: '6.1',
    originals: { ...VIEWS_FILES_6_1_TO_7_1, 'dist/server.js': 'd9f2deb877a4e45aaf4803f3a6acc508a289dd1063611c2ae14117efdad77284' },
    patches: { 'dist/server.js': [SHUTDOWN_PATCH] },
  },
  {
    // Viewers federation v2 only (fcd71e14a, 962d3401a); package.json still says 7.0.1.
    name: 'develop 2025-02-24 (b608a075c), 7.1 before its release',
    version: '7.0.1',
    peertubeVersion: '7.1',
    adapter: '6.1',
    originals: { ...VIEWS_FILES_6_1_TO_7_1, 'dist/server.js': 'd8c92ebe374d9345e65c749213344bf280d41c60ff08e5de838001deb6312a14' },
    patches: { 'dist/server.js': [SHUTDOWN_PATCH] },
  },
]

/** The builds by package.json version (a version may have several, told apart by their files). */
const RELEASES = {}
for (const build of BUILDS) (RELEASES[build.version] ??= []).push(build)

module.exports = { ADAPTERS, BUILDS, RELEASES, SHUTDOWN_PATCH }
