// Loads the engine package. Installed by PeerTube, the plugin finds `peertube-native-views` in
// its own node_modules. In this repository (a clone with `npm install` run at the root only)
// that dependency is not installed and the root package cannot require itself by name (it has
// no "exports"), so the plugin falls back to the repository root, the directory above plugin/.
'use strict'

const path = require('node:path')

function loadNative() {
  try {
    return require('peertube-native-views')
  } catch (err) {
    if (err.code !== 'MODULE_NOT_FOUND' || !String(err.message).includes("'peertube-native-views'")) throw err
    return require(path.join(__dirname, '..', '..'))
  }
}

module.exports = { loadNative }
