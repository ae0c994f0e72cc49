#!/usr/bin/env node
// `npm pack` / `npm publish`: puts the built binary of this platform into npm/<target>/, so the
// tarball carries the loader, the types and the binary (built with `npm run build` before).
const fs = require('node:fs')
const path = require('node:path')
const { targetName } = require('./platform')

const root = path.join(__dirname, '..')
const target = targetName()
const name = `peertube-native-views.${target}.node`
const built = path.join(root, name)
if (!fs.existsSync(built)) {
  console.error(`prepack: ${name} is not built; run \`npm run build\` first`)
  process.exit(1)
}
const dir = path.join(root, 'npm', target)
fs.mkdirSync(dir, { recursive: true })
fs.copyFileSync(built, path.join(dir, name))

// The PeerTube adapter compiled to JavaScript (peertube/<line>/...), which the installer puts
// into a built PeerTube: the package carries it, so admins need no TypeScript.
require('./build-adapter').buildAdapters()
