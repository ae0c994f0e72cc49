#!/usr/bin/env node
// npx peertube-native-views install <peertube-dir> [--from <tarball or package dir>]
//                          uninstall <peertube-dir>
//                          status <peertube-dir> [--json]
'use strict'
const { install, uninstall, status, InstallError } = require('../installer')

const USAGE = `usage: peertube-native-views <command> <peertube-dir>

  install <dir> [--from <path>]  install into a built PeerTube (the compiled dist/); --from takes a
                                 packed tarball or a package directory (default: this package)
  uninstall <dir>                restore PeerTube's own files byte for byte
  status <dir> [--json]          the PeerTube release, and which files are PeerTube's or native

Restart PeerTube after install or uninstall. Redis data stays compatible both ways.`

function main(argv) {
  const [command, dir, ...rest] = argv
  const flag = (name) => {
    const i = rest.indexOf(name)
    return i === -1 ? undefined : rest[i + 1]
  }
  const log = (line) => console.log(line)
  switch (command) {
    case 'install':
      install(dir, { from: flag('--from'), log })
      return 0
    case 'uninstall':
      uninstall(dir, { log })
      return 0
    case 'status': {
      const s = status(dir)
      if (rest.includes('--json')) {
        console.log(JSON.stringify(s, null, 2))
      } else {
        const build = s.build ? ` (${s.build})` : ''
        console.log(`PeerTube ${s.peertubeVersion}${build} at ${s.root}: ${s.supported ? 'supported' : 'not supported'}; peertube-native-views ${s.installed ? s.packageVersion + ' installed' : 'not installed'}`)
        for (const [file, state] of Object.entries(s.files)) console.log(`  ${state.padEnd(8)} ${file}`)
      }
      return 0
    }
    default:
      console.log(USAGE)
      return command === undefined || command === '--help' || command === '-h' ? 0 : 2
  }
}

try {
  process.exitCode = main(process.argv.slice(2))
} catch (err) {
  console.error(err instanceof InstallError ? `peertube-native-views: ${err.message}` : err)
  process.exitCode = 1
}
