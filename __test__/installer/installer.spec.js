// The installer (installer/, bin/peertube-native-views.js) on a fake built PeerTube: files with
// PeerTube's paths and stand-in contents, recognised through a release table of their SHA-256
// (the real table holds the hashes of PeerTube v6.1.0's own build, which cannot live here).
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync, spawnSync } = require('node:child_process')
const { install, uninstall, status, InstallError, STATE_DIR, PACKAGE_DIR } = require('../../installer')
const { ADAPTERS, RELEASES } = require('../../installer/peertube-versions')

const root = path.join(__dirname, '..', '..')
const cli = path.join(root, 'bin', 'peertube-native-views.js')
const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex')

const STOCK = {
  'dist/core/lib/views/video-views-manager.js': 'export class VideoViewsManager { /* PeerTube 6.1 */ }\n',
  'dist/core/lib/schedulers/video-views-buffer-scheduler.js': 'export class VideoViewsBufferScheduler { /* PeerTube 6.1 */ }\n',
  'dist/core/lib/job-queue/handlers/video-views-stats.js': 'export async function processVideosViewsStats () {}\n',
  'dist/server.js': [
    "import { logger } from './core/helpers/logger.js';",
    "import { VideoViewsManager } from './core/lib/views/video-views-manager.js';",
    'async function startApplication() {',
    '    VideoViewsManager.Instance.init();',
    "    process.on('SIGINT', () => process.exit(0));",
    '}',
    '',
  ].join('\n'),
}
const OTHER = { 'dist/core/lib/views/shared/index.js': 'export {}\n', 'config/production.yaml': 'listen: {}\n' }

/** The release table of the fake tree: the real 6.1.0 entry with the fake files' hashes. */
const hashes = (files) => Object.fromEntries(Object.entries(files).map(([rel, text]) => [rel, sha256(text)]))
const FAKE_RELEASES = {
  '6.1.0': [{ ...RELEASES['6.1.0'][0], originals: hashes(STOCK) }],
}

/** A version with two builds told apart by their server.js (PeerTube 7.0.1 and the 7.1 develop build). */
const DEV_STOCK = { ...STOCK, 'dist/server.js': STOCK['dist/server.js'].replace('async function', '// develop\nasync function') }
const TWO_BUILDS = {
  '7.0.1': [
    { ...RELEASES['7.0.1'][0], originals: hashes(STOCK) },
    { ...RELEASES['7.0.1'][1], originals: hashes(DEV_STOCK) },
  ],
}

function fakePeerTube(version = '6.1.0', files = STOCK) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-peertube-'))
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'peertube', version, type: 'module' }))
  for (const [rel, text] of Object.entries({ ...files, ...OTHER })) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    fs.writeFileSync(path.join(dir, rel), text)
  }
  return dir
}

/** Every file of a tree with its SHA-256: what "byte for byte" compares. */
function snapshot(dir) {
  const out = {}
  const walk = (rel) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const child = path.join(rel, entry.name)
      if (entry.isDirectory()) walk(child)
      else out[child] = sha256(fs.readFileSync(path.join(dir, child)))
    }
  }
  walk('')
  return out
}

let work
let tarball
const trees = []
beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-installer-'))
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
  tarball = path.join(work, packed.filename)
}, 120_000)
afterAll(() => {
  for (const dir of [work, ...trees]) fs.rmSync(dir, { recursive: true, force: true })
})
const tree = (...args) => {
  const dir = fakePeerTube(...args)
  trees.push(dir)
  return dir
}

test('install replaces the views wiring with the compiled adapter, patches the shutdown, installs the package, keeps backups', () => {
  const dir = tree()
  const lines = []
  expect(install(dir, { from: tarball, releases: FAKE_RELEASES, log: (l) => lines.push(l) })).toMatchObject({ changed: true, version: '6.1.0' })

  // Each adapter file is the package's compiled JavaScript, byte for byte.
  const pkg = path.join(dir, PACKAGE_DIR)
  for (const distPath of Object.values(ADAPTERS['6.1'])) {
    const installed = fs.readFileSync(path.join(dir, 'dist', distPath))
    expect(installed.equals(fs.readFileSync(path.join(pkg, 'peertube', '6.1', distPath)))).toBe(true)
    expect(installed.toString()).not.toMatch(/from '@server\//)
  }
  expect(fs.readFileSync(path.join(dir, 'dist/core/lib/views/video-views-manager.js'), 'utf8')).toMatch(/from 'peertube-native-views'/)
  const server = fs.readFileSync(path.join(dir, 'dist/server.js'), 'utf8')
  expect(server).not.toContain("process.on('SIGINT', () => process.exit(0));")
  expect(server).toContain("process.on('SIGINT', nativeViewsShutdown);")
  expect(server).toContain("process.on('SIGTERM', nativeViewsShutdown);")
  expect(server).toContain('VideoViewsManager.Instance.close()')

  // The backups are PeerTube's files; the rest of the tree is untouched.
  for (const [rel, text] of Object.entries(STOCK)) expect(fs.readFileSync(path.join(dir, STATE_DIR, 'backup', rel), 'utf8')).toBe(text)
  for (const [rel, text] of Object.entries(OTHER)) expect(fs.readFileSync(path.join(dir, rel), 'utf8')).toBe(text)

  // The package in PeerTube's node_modules loads, with its bundled binary.
  const out = execFileSync(process.execPath, ['-e', "const v = require('peertube-native-views'); console.log(typeof v.VideoViewsManager)"], { cwd: dir, encoding: 'utf8' })
  expect(out.trim()).toBe('function')

  expect(status(dir, { releases: FAKE_RELEASES })).toMatchObject({
    peertubeVersion: '6.1.0',
    supported: true,
    installed: true,
    files: {
      'dist/server.js': 'native',
      'dist/core/lib/views/video-views-manager.js': 'native',
      'dist/core/lib/views/native-host.js': 'native',
      'dist/core/lib/job-queue/handlers/video-views-stats.js': 'native',
    },
  })
  expect(lines[0]).toMatch(/^Installed peertube-native-views 0\.1\.0 into PeerTube 6\.1\.0/)
}, 60_000)

test('install is idempotent, and uninstall restores every file byte for byte', () => {
  const dir = tree()
  const before = snapshot(dir)
  install(dir, { from: tarball, releases: FAKE_RELEASES })
  const installed = snapshot(dir)
  expect(install(dir, { from: tarball, releases: FAKE_RELEASES })).toMatchObject({ changed: false })
  expect(snapshot(dir)).toEqual(installed)

  expect(uninstall(dir)).toEqual({ changed: true })
  expect(snapshot(dir)).toEqual(before)
  expect(status(dir, { releases: FAKE_RELEASES })).toMatchObject({ installed: false, files: { 'dist/server.js': 'peertube' } })
  expect(uninstall(dir)).toEqual({ changed: false })
  expect(snapshot(dir)).toEqual(before)
}, 60_000)

test('a release it does not know, a modified tree or a tree that is not PeerTube is refused, and nothing changes', () => {
  const unsupported = tree('6.2.0')
  let before = snapshot(unsupported)
  expect(() => install(unsupported, { from: tarball, releases: FAKE_RELEASES })).toThrow(/PeerTube 6\.2\.0 is not supported by this installer \(supported: 6\.1\.0\)/)
  expect(snapshot(unsupported)).toEqual(before)

  const modified = tree('6.1.0', { ...STOCK, 'dist/core/lib/schedulers/video-views-buffer-scheduler.js': '// patched by the admin\n' })
  before = snapshot(modified)
  let err
  try {
    install(modified, { from: tarball, releases: FAKE_RELEASES })
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(InstallError)
  expect(err.message).toMatch(/does not recognise/)
  expect(err.message).toContain('dist/core/lib/schedulers/video-views-buffer-scheduler.js (modified)')
  expect(err.message).not.toContain('dist/server.js')
  expect(snapshot(modified)).toEqual(before)
  expect(fs.existsSync(path.join(modified, PACKAGE_DIR))).toBe(false)

  const notPeerTube = fs.mkdtempSync(path.join(os.tmpdir(), 'not-peertube-'))
  trees.push(notPeerTube)
  fs.writeFileSync(path.join(notPeerTube, 'package.json'), JSON.stringify({ name: 'other', version: '6.1.0' }))
  expect(() => install(notPeerTube, { from: tarball, releases: FAKE_RELEASES })).toThrow(/is not a PeerTube directory/)
  // The built-in table does not know the fake files: the real installer refuses them too.
  const fake = tree()
  before = snapshot(fake)
  expect(() => install(fake, { from: tarball })).toThrow(/does not recognise/)
  expect(snapshot(fake)).toEqual(before)
}, 60_000)

test('uninstall refuses when an installed file was changed since, and changes nothing', () => {
  const dir = tree()
  install(dir, { from: tarball, releases: FAKE_RELEASES })
  fs.appendFileSync(path.join(dir, 'dist/core/lib/views/native-host.js'), '// edited\n')
  const before = snapshot(dir)
  expect(() => uninstall(dir)).toThrow(/changed since the install[^]*dist\/core\/lib\/views\/native-host\.js/)
  expect(snapshot(dir)).toEqual(before)
}, 60_000)

test('the CLI: status, install from a tarball, a refusal with exit code 1, uninstall', () => {
  const dir = tree('6.2.0')
  const run = (...args) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' })
  const s = run('status', dir, '--json')
  expect(s.status).toBe(0)
  expect(JSON.parse(s.stdout)).toMatchObject({ peertubeVersion: '6.2.0', supported: false, installed: false })
  const refused = run('install', dir, '--from', tarball)
  expect(refused.status).toBe(1)
  expect(refused.stderr).toMatch(/^peertube-native-views: PeerTube 6\.2\.0 is not supported/)
  expect(run('uninstall', dir).stdout).toMatch(/not installed/)
  expect(run().status).toBe(0)
  expect(run('frobnicate').status).toBe(2)
})

test('one version, two builds: the build whose files match is installed, recorded and restored', () => {
  for (const [files, name] of [[STOCK, 'v7.0.1'], [DEV_STOCK, 'develop']]) {
    const dir = tree('7.0.1', files)
    const before = snapshot(dir)
    expect(install(dir, { from: tarball, releases: TWO_BUILDS })).toMatchObject({ changed: true, version: '7.0.1' })
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, STATE_DIR, 'manifest.json'), 'utf8'))
    expect(manifest.build.startsWith(name)).toBe(true)
    expect(status(dir, { releases: TWO_BUILDS })).toMatchObject({ installed: true, build: manifest.build, files: { 'dist/server.js': 'native' } })
    // Installed again: the recorded build, nothing to do.
    expect(install(dir, { from: tarball, releases: TWO_BUILDS })).toMatchObject({ changed: false })
    expect(uninstall(dir)).toEqual({ changed: true })
    expect(snapshot(dir)).toEqual(before)
  }
  const neither = tree('7.0.1', { ...STOCK, 'dist/server.js': '// another build\n' + STOCK['dist/server.js'] })
  expect(() => install(neither, { from: tarball, releases: TWO_BUILDS })).toThrow(/does not recognise[\s\S]*dist\/server\.js \(modified\)[\s\S]*known: v7\.0\.1/)
}, 120_000)

test('the release table: every build names a built adapter, and its patches find their statement in PeerTube', () => {
  expect(RELEASES['7.0.1'].map((b) => b.peertubeVersion)).toEqual(['7.0', '7.1'])
  for (const [version, release] of Object.entries(RELEASES).flatMap(([v, builds]) => builds.map((b) => [v, b]))) {
    expect(ADAPTERS[release.adapter]).toBeDefined()
    for (const rel of Object.keys(release.patches)) expect(release.originals[rel]).toMatch(/^[0-9a-f]{64}$/)
    for (const distPath of Object.values(ADAPTERS[release.adapter])) {
      const rel = `dist/${distPath}`
      // Replaced files are PeerTube's (known hash); the others are added.
      if (rel in release.originals) expect(release.originals[rel]).toMatch(/^[0-9a-f]{64}$/)
    }
    expect(Object.keys(release.originals)).toEqual(expect.arrayContaining(['dist/server.js']))
    expect(version).toMatch(/^\d+\.\d+\.\d+$/)
  }
  // The fake server.js carries the very statement PeerTube 6.1's compiled server.js has.
  expect(STOCK['dist/server.js']).toContain(RELEASES['6.1.0'][0].patches['dist/server.js'][0].find)
})
