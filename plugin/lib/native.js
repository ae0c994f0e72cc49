// Loads the engine package. Installed by PeerTube, the plugin finds `peertube-native-views` in
// its own node_modules. In this repository (a clone with `npm install` run at the root only)
// that dependency is not installed and the root package cannot require itself by name (it has
// no "exports"), so the plugin falls back to the repository root, the directory above plugin/.
'use strict'

const path = require('node:path')

/** The package's directory: its engine, installer table and compiled adapter live there. */
function nativePackageRoot() {
  try {
    return path.dirname(require.resolve('peertube-native-views/package.json'))
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND') throw err
    return path.join(__dirname, '..', '..')
  }
}

function loadNative() {
  return require(nativePackageRoot())
}

module.exports = { loadNative, nativePackageRoot }
