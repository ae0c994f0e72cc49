// Which bundled binary (npm/<triple>/) fits this process: the napi CLI's platform names.
const fs = require('node:fs')
const path = require('node:path')

function isMusl() {
  const report = typeof process.report?.getReport === 'function' ? process.report.getReport() : null
  return !report?.header?.glibcVersionRuntime
}

/** The napi target name of this process, e.g. `linux-x64-gnu`, `linux-arm64-musl`, `freebsd-x64`. */
function targetName() {
  if (process.platform === 'linux') return `linux-${process.arch}-${isMusl() ? 'musl' : 'gnu'}`
  return `${process.platform}-${process.arch}`
}

/** Path of the binary bundled in `npm/<target>/` under `root`, or null. */
function bundledBinary(root) {
  const target = targetName()
  const file = path.join(root, 'npm', target, `peertube-native-views.${target}.node`)
  return fs.existsSync(file) ? file : null
}

module.exports = { targetName, bundledBinary }
