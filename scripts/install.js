#!/usr/bin/env node
// `npm install` of this package. In a source checkout (Cargo.toml present) it builds the addon
// from source in release mode, as `npm run build` does. Installed from a packed tarball it uses
// the binary bundled under npm/<platform>/ and builds nothing; on a platform without one it
// says how to build it.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { bundledBinary } = require('./platform')

const root = path.join(__dirname, '..')

if (fs.existsSync(path.join(root, 'Cargo.toml'))) {
  // `npm run build` (package.json holds the napi CLI's arguments once).
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status ?? 1)
  // The PeerTube adapter compiled to JavaScript, for the installer (peertube/<line>/).
  require('./build-adapter').buildAdapters()
  process.exit(0)
}

if (!bundledBinary(root)) {
  console.error(
    `peertube-native-views: no prebuilt binary for ${process.platform}-${process.arch} in this package. ` +
      'Build it from a source checkout with the napi CLI (see the README, "Packaging").',
  )
  process.exit(1)
}
