// Owns the takeover (lib/takeover.js): turns it on or off as the `takeover` setting says, one
// change at a time, and refuses it where it cannot be right (a PeerTube release the adapter does
// not know, or one where the installer already put the engine in). A refusal or failure is
// logged and kept in `state`/`error` for the health route; PeerTube keeps its own views then.
'use strict'

const path = require('node:path')
const os = require('node:os')
const { takeOver, peertubeRootOf } = require('./takeover')

function createTakeoverHolder({ packageRoot, peertubeHelpers, root = peertubeRootOf }) {
  const logger = peertubeHelpers.logger
  const holder = { state: 'off', error: null, current: null }
  let chain = Promise.resolve()
  const serialize = (task) => {
    const run = chain.then(task)
    chain = run.catch(() => {})
    return run
  }

  function lineOf(peertube) {
    const { RELEASES } = require(path.join(packageRoot, 'installer', 'peertube-versions.js'))
    const builds = RELEASES[peertube.version]
    if (!builds?.length) throw Object.assign(new Error(`PeerTube ${peertube.version} is not supported by takeover (supported: ${Object.keys(RELEASES).join(', ')})`), { code: 'UNSUPPORTED' })
    const { status } = require(path.join(packageRoot, 'installer', 'index.js'))
    if (status(peertube.root).installed) throw Object.assign(new Error('the installer already runs PeerTube on the native engine'), { code: 'ALREADY_NATIVE' })
    // Every build of one version runs the same adapter line (installer/peertube-versions.js).
    return builds[0].adapter
  }

  async function on() {
    if (holder.current) return
    try {
      const peertube = root()
      if (!peertube) throw Object.assign(new Error('cannot find the PeerTube directory of this process'), { code: 'UNSUPPORTED' })
      const line = lineOf(peertube)
      const dataDir = peertubeHelpers.plugin?.getDataDirectoryPath?.() || os.tmpdir()
      holder.current = await takeOver({ packageRoot, peertube, line, workDir: dataDir, logger })
      holder.state = 'on'
      holder.error = null
    } catch (err) {
      holder.state = 'refused'
      holder.error = { code: err.code || 'INTERNAL', message: err.message }
      logger.error(`native-views: takeover not possible: ${err.message}`, { tags: ['native-views'], err })
    }
  }

  async function off() {
    const current = holder.current
    holder.current = null
    if (current) await current.release()
    holder.state = 'off'
    holder.error = null
  }

  holder.apply = (wanted) => serialize(() => (wanted ? on() : off()))
  holder.close = () => serialize(off)
  holder.engine = () => holder.current?.adapter ?? null
  return holder
}

module.exports = { createTakeoverHolder }
