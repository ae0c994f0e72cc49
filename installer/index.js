// Installs peertube-native-views into a built PeerTube (the layout admins run: compiled dist/,
// node_modules/), and takes it out again byte for byte.
//
// install: recognises the release (package.json version) and every file it will change (SHA-256
// of PeerTube's own build), refusing with nothing changed otherwise; copies the package into
// node_modules/peertube-native-views; keeps the originals in .peertube-native-views/backup/;
// replaces the views wiring (manager, buffer scheduler, hourly job) with the adapter compiled to
// JavaScript and patches the shutdown in dist/server.js. Running it again changes nothing.
// uninstall: puts every original back, removes what install added. status: what is where.
'use strict'
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { ADAPTERS, RELEASES } = require('./peertube-versions')

const STATE_DIR = '.peertube-native-views'
const PACKAGE_DIR = 'node_modules/peertube-native-views'
const MANIFEST = 'manifest.json'

/** A refusal or failure the CLI prints as it is (exit code 1). */
class InstallError extends Error {
  constructor(message) {
    super(message)
    this.name = 'InstallError'
  }
}

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex')
const fileSha = (file) => (fs.existsSync(file) ? sha256(fs.readFileSync(file)) : null)

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'))
  } catch {
    return null
  }
}

/** PeerTube's root (a symlink such as peertube-latest is followed) and its release. */
function peertubeTree(dir) {
  if (!dir) throw new InstallError('Give the PeerTube directory: peertube-native-views install <peertube-dir>')
  const root = fs.existsSync(dir) ? fs.realpathSync(dir) : null
  const pkg = root && readJson(path.join(root, 'package.json'))
  if (!pkg || pkg.name !== 'peertube' || typeof pkg.version !== 'string') {
    throw new InstallError(`${dir} is not a PeerTube directory (no package.json named "peertube").`)
  }
  if (!fs.existsSync(path.join(root, 'dist', 'server.js'))) {
    throw new InstallError(`${root} has no dist/server.js: build PeerTube first (the installer works on the compiled server).`)
  }
  return { root, version: pkg.version }
}

/** The builds the installer knows for `version`, or an error naming the supported versions. */
function buildsOf(version, releases) {
  const builds = releases[version]
  if (!builds || builds.length === 0) {
    throw new InstallError(`PeerTube ${version} is not supported by this installer (supported: ${Object.keys(releases).join(', ')}). Nothing was changed.`)
  }
  return builds
}

/** The files of `build` that are neither PeerTube's own (its hash) nor ours (`existing`'s record). */
function unrecognised(root, build, existing) {
  const unknown = []
  for (const [rel, sha] of Object.entries(build.originals)) {
    const now = fileSha(path.join(root, rel))
    if (now === sha) continue
    if (existing && existing.files[rel] && existing.files[rel].installed === now) continue
    unknown.push(`${rel} (${now ? 'modified' : 'missing'})`)
  }
  return unknown
}

/**
 * The build this tree is: the one recorded by a previous install, else the first whose files
 * are all PeerTube's own. `null` with the differences from the first build when none is.
 */
function matchBuild(root, builds, existing) {
  if (existing) {
    const recorded = builds.find((b) => b.name === (existing.build ?? builds[0].name))
    if (recorded) return { build: recorded, unknown: unrecognised(root, recorded, existing) }
  }
  for (const build of builds) {
    if (unrecognised(root, build, null).length === 0) return { build, unknown: [] }
  }
  return { build: null, unknown: unrecognised(root, builds[0], existing) }
}

/** The package to install, unpacked: a packed tarball, or a source checkout packed with `npm pack`. */
function unpackPackage(from, work) {
  let tarball = from
  if (fs.statSync(from).isDirectory()) {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: from, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    tarball = path.join(work, JSON.parse(out)[0].filename)
  }
  execFileSync('tar', ['-xzf', tarball, '-C', work])
  const unpacked = path.join(work, 'package')
  if (readJson(path.join(unpacked, 'package.json'))?.name !== 'peertube-native-views') {
    throw new InstallError(`${from} is not a peertube-native-views package.`)
  }
  return unpacked
}

/** What install writes, computed before anything is written: `{ rel: Buffer }` and the files it adds. */
function plan(root, release, packageRoot) {
  const adapterDir = path.join(packageRoot, 'peertube', release.adapter)
  const writes = {}
  const added = []
  for (const distPath of Object.values(ADAPTERS[release.adapter])) {
    const rel = `dist/${distPath}`
    const compiled = path.join(adapterDir, distPath)
    if (!fs.existsSync(compiled)) throw new InstallError(`The package has no compiled adapter file peertube/${release.adapter}/${distPath}.`)
    writes[rel] = fs.readFileSync(compiled)
    if (!(rel in release.originals)) added.push(rel)
  }
  for (const [rel, patches] of Object.entries(release.patches)) {
    let text = fs.readFileSync(path.join(root, rel), 'utf8')
    for (const { find, replace } of patches) {
      if (text.split(find).length !== 2) throw new InstallError(`${rel}: the statement to patch is not there exactly once. Nothing was changed.`)
      text = text.replace(find, () => replace)
    }
    writes[rel] = Buffer.from(text)
  }
  return { writes, added }
}

/** Writes through a temporary file and a rename, so a file is never half-written. */
function writeAtomic(file, bytes) {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  const temp = `${file}.pnv-${process.pid}`
  fs.writeFileSync(temp, bytes)
  fs.renameSync(temp, file)
}

/** SHA-256 over a directory's relative paths and contents (missing: null). */
function treeSha(dir) {
  if (!fs.existsSync(dir)) return null
  const hash = crypto.createHash('sha256')
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = path.posix.join(rel, entry.name)
      if (entry.isDirectory()) walk(child)
      else hash.update(child).update('\0').update(fs.readFileSync(path.join(dir, child))).update('\0')
    }
  }
  walk('')
  return hash.digest('hex')
}

function copyDir(from, to) {
  fs.rmSync(to, { recursive: true, force: true })
  fs.cpSync(from, to, { recursive: true })
}

function manifestOf(root) {
  return readJson(path.join(root, STATE_DIR, MANIFEST))
}

/**
 * Installs into the PeerTube at `dir`. `from`: a packed tarball or a package directory (default:
 * this package). `releases`: the table of known releases (tests pass their own). Returns
 * `{ changed, version, files }`.
 */
function install(dir, { from = path.join(__dirname, '..'), log = () => {}, releases = RELEASES } = {}) {
  const { root, version } = peertubeTree(dir)
  const builds = buildsOf(version, releases)
  const existing = manifestOf(root)
  if (existing && existing.peertubeVersion !== version) {
    throw new InstallError(`An install for PeerTube ${existing.peertubeVersion} is recorded in ${STATE_DIR}/, but this tree is ${version}. Run uninstall first (or remove ${STATE_DIR}/ if PeerTube was replaced).`)
  }

  // Every file to change must be PeerTube's own (or, when already installed, ours).
  const { build: release, unknown } = matchBuild(root, builds, existing)
  if (!release || unknown.length) {
    const known = builds.map((b) => b.name).join(', ')
    throw new InstallError(`This PeerTube ${version} tree has files the installer does not recognise, so it changed nothing:\n  ${unknown.join('\n  ')}\nThey differ from PeerTube ${version}'s own build (known: ${known}; a modified PeerTube?).`)
  }

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-install-'))
  try {
    const packageRoot = unpackPackage(path.resolve(from), work)
    const packageVersion = readJson(path.join(packageRoot, 'package.json')).version
    // Patches apply to PeerTube's original text (the backup, when already installed).
    const originalsDir = existing ? path.join(root, STATE_DIR, 'backup') : root
    const { writes, added } = plan(originalsDir, release, packageRoot)
    for (const rel of added) {
      if (fs.existsSync(path.join(root, rel)) && !(existing && existing.added.includes(rel))) {
        throw new InstallError(`${rel} already exists and is not PeerTube's or ours. Nothing was changed.`)
      }
    }

    const unchanged =
      existing &&
      existing.packageVersion === packageVersion &&
      Object.entries(writes).every(([rel, bytes]) => fileSha(path.join(root, rel)) === sha256(bytes)) &&
      treeSha(path.join(root, PACKAGE_DIR)) === treeSha(packageRoot)
    if (unchanged) {
      log(`peertube-native-views ${packageVersion} is already installed in ${root}: nothing to do.`)
      return { changed: false, version, files: Object.keys(writes) }
    }

    // Backups first (once: they are PeerTube's originals), then the package, then the files.
    const backup = path.join(root, STATE_DIR, 'backup')
    if (!existing) {
      for (const rel of Object.keys(release.originals)) writeAtomic(path.join(backup, rel), fs.readFileSync(path.join(root, rel)))
    }
    const files = {}
    for (const [rel, bytes] of Object.entries(writes)) {
      files[rel] = { original: release.originals[rel] ?? null, installed: sha256(bytes) }
    }
    const manifest = { peertubeVersion: version, build: release.name, packageVersion, installedAt: new Date().toISOString(), files, added, state: 'installing' }
    writeAtomic(path.join(root, STATE_DIR, MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
    copyDir(packageRoot, path.join(root, PACKAGE_DIR))
    for (const [rel, bytes] of Object.entries(writes)) writeAtomic(path.join(root, rel), bytes)
    manifest.state = 'installed'
    writeAtomic(path.join(root, STATE_DIR, MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
    log(`Installed peertube-native-views ${packageVersion} into PeerTube ${version} (${release.name}) at ${root}.`)
    for (const rel of Object.keys(writes)) log(`  ${added.includes(rel) ? 'added   ' : 'replaced'} ${rel}`)
    log('Restart PeerTube to run the native views engine (Redis data stays compatible both ways).')
    return { changed: true, version, files: Object.keys(writes) }
  } finally {
    fs.rmSync(work, { recursive: true, force: true })
  }
}

/** Puts every original file back, removes what install added. Returns `{ changed }`. */
function uninstall(dir, { log = () => {} } = {}) {
  const { root, version } = peertubeTree(dir)
  const manifest = manifestOf(root)
  if (!manifest) {
    log(`peertube-native-views is not installed in ${root}: nothing to do.`)
    return { changed: false }
  }
  if (manifest.peertubeVersion !== version) {
    throw new InstallError(`The install recorded in ${STATE_DIR}/ is for PeerTube ${manifest.peertubeVersion}, this tree is ${version}: PeerTube was replaced, its files are not ours to restore. Remove ${STATE_DIR}/ and ${PACKAGE_DIR}/ by hand.`)
  }
  const backup = path.join(root, STATE_DIR, 'backup')
  const changed = []
  for (const [rel, { original, installed }] of Object.entries(manifest.files)) {
    const now = fileSha(path.join(root, rel))
    if (now !== installed && now !== original) changed.push(rel)
    if (original && fileSha(path.join(backup, rel)) !== original) throw new InstallError(`The backup of ${rel} is damaged; nothing was changed.`)
  }
  if (changed.length) {
    throw new InstallError(`These files changed since the install, so uninstall changed nothing:\n  ${changed.join('\n  ')}`)
  }
  for (const [rel, { original }] of Object.entries(manifest.files)) {
    if (original) writeAtomic(path.join(root, rel), fs.readFileSync(path.join(backup, rel)))
  }
  for (const rel of manifest.added) fs.rmSync(path.join(root, rel), { force: true })
  fs.rmSync(path.join(root, PACKAGE_DIR), { recursive: true, force: true })
  fs.rmSync(path.join(root, STATE_DIR), { recursive: true, force: true })
  log(`Removed peertube-native-views from PeerTube ${version} at ${root}; PeerTube's own files are back. Restart PeerTube.`)
  return { changed: true }
}

/** What is installed where: `{ peertubeVersion, build, supported, installed, packageVersion, files: { rel: state } }`. */
function status(dir, { releases = RELEASES } = {}) {
  const { root, version } = peertubeTree(dir)
  const builds = releases[version] ?? []
  const manifest = manifestOf(root)
  const matched = builds.length ? matchBuild(root, builds, manifest).build : null
  const release = matched ?? builds[0] ?? null
  const files = {}
  const known = { ...(release?.originals ?? {}) }
  for (const rel of manifest ? Object.keys(manifest.files) : []) known[rel] = known[rel] ?? null
  for (const [rel, original] of Object.entries(known)) {
    const now = fileSha(path.join(root, rel))
    const installed = manifest?.files[rel]?.installed
    files[rel] = now === null ? 'missing' : now === installed ? 'native' : now === original ? 'peertube' : 'modified'
  }
  return {
    root,
    peertubeVersion: version,
    build: manifest?.build ?? matched?.name ?? null,
    supported: Boolean(release),
    installed: Boolean(manifest && manifest.state === 'installed'),
    packageVersion: manifest?.packageVersion ?? null,
    files,
  }
}

module.exports = { install, uninstall, status, InstallError, STATE_DIR, PACKAGE_DIR }
