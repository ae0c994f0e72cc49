// PeerTube's rules for a plugin's package.json, as its installer applies them
// (`isPackageJSONValid(packageJSON, PluginType.PLUGIN)` in
// server/core/helpers/custom-validators/plugins.ts, plus the plugin manager's checks that the
// library exists and exports `register`). Written from PeerTube 6.x; `engine.peertube` is
// also required to be a semver range that the target PeerTube version satisfies.
const fs = require('node:fs')
const path = require('node:path')

const exists = (value) => value !== undefined && value !== null
const isSafePath = (p) => typeof p === 'string' && p !== '' && p.split(/[\\/]/).every((part) => part !== '..')

function isUrl(value) {
  if (typeof value !== 'string') return false
  try {
    const url = new URL(value)
    return (url.protocol === 'http:' || url.protocol === 'https:') && /\.[a-z]{2,}$/i.test(url.hostname)
  } catch {
    return false
  }
}

const VERSION = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$/
const COMPARATOR = /^(>=|<=|>|<|=)?(\d+)\.(\d+)\.(\d+)$/

/** A semver range made of comparators (`>=6.1.0 <8.0.0`, alternatives with `||`), or null. */
function parseRange(range) {
  if (typeof range !== 'string' || range.trim() === '') return null
  const sets = range.split('||').map((set) => set.trim().split(/\s+/).map((c) => c.match(COMPARATOR)))
  if (sets.some((set) => set.some((c) => !c))) return null
  return sets.map((set) => set.map(([, op = '=', a, b, c]) => ({ op, version: [Number(a), Number(b), Number(c)] })))
}

function compare(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1
  return 0
}

function satisfies(version, range) {
  const v = version.split('.').map(Number)
  const ok = { '>=': (c) => c >= 0, '<=': (c) => c <= 0, '>': (c) => c > 0, '<': (c) => c < 0, '=': (c) => c === 0 }
  return parseRange(range).some((set) => set.every(({ op, version: r }) => ok[op](compare(v, r))))
}

/**
 * The fields that break PeerTube's rules (empty when the package is valid). `dir` is where the
 * package lives, to check that `library` exists and exports `register`.
 */
function badPluginFields(pkg, { dir, peertubeVersion = '6.1.0' } = {}) {
  const bad = []
  const check = (field, valid) => {
    if (!valid) bad.push(field)
  }
  check('name', typeof pkg.name === 'string' && pkg.name.length <= 255 && /^peertube-plugin-[a-z0-9-]+$/.test(pkg.name))
  check('version', typeof pkg.version === 'string' && VERSION.test(pkg.version))
  check('description', typeof pkg.description === 'string' && pkg.description.length >= 1 && pkg.description.length <= 20000)
  check('engine', exists(pkg.engine) && parseRange(pkg.engine.peertube) !== null && satisfies(peertubeVersion, pkg.engine.peertube))
  check('keywords', Array.isArray(pkg.keywords) && pkg.keywords.includes('peertube') && pkg.keywords.includes('plugin'))
  check('homepage', isUrl(pkg.homepage))
  check('author', exists(pkg.author) && pkg.author !== '')
  check('bugs', isUrl(typeof pkg.bugs === 'object' && pkg.bugs ? pkg.bugs.url : pkg.bugs))
  check('library', isSafePath(pkg.library) && libraryExportsRegister(dir, pkg.library))
  check('staticDirs', isPlainObject(pkg.staticDirs) && Object.values(pkg.staticDirs).every(isSafePath))
  check('css', Array.isArray(pkg.css) && pkg.css.every(isSafePath))
  check('clientScripts', Array.isArray(pkg.clientScripts) && pkg.clientScripts.every((c) => c && isSafePath(c.script) && Array.isArray(c.scopes)))
  check('translations', isPlainObject(pkg.translations) && Object.values(pkg.translations).every(isSafePath))
  return bad
}

const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v)

function libraryExportsRegister(dir, library) {
  if (!dir) return true
  const file = path.resolve(dir, library)
  if (!fs.existsSync(file)) return false
  const mod = require(file)
  return typeof mod.register === 'function' && (mod.unregister === undefined || typeof mod.unregister === 'function')
}

module.exports = { badPluginFields, parseRange, satisfies }
