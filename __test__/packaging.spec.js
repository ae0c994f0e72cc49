// Packaging (issue 7, item 6): `npm pack` gives a tarball with the loader, the types and this
// platform's binary under npm/<target>/, and that tarball installs (offline, nothing to build)
// and loads in another project.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { targetName } = require('../scripts/platform')

const root = path.join(__dirname, '..')
const npm = (args, cwd) => execFileSync('npm', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })

let dir
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-pack-'))
})
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true })
})

test('npm pack carries the loader, the types and the binary; the tarball installs and loads', () => {
  const target = targetName()
  const [packed] = JSON.parse(npm(['pack', '--json', '--pack-destination', dir], root))
  const files = packed.files.map((f) => f.path).sort()
  expect(files).toEqual(
    expect.arrayContaining(['index.js', 'index.d.ts', 'binding.js', 'binding.d.ts', 'metrics.js', 'package.json', 'scripts/install.js', 'scripts/platform.js', `npm/${target}/package.json`, `npm/${target}/peertube-native-views.${target}.node`]),
  )
  expect(files.filter((f) => f.startsWith('src/') || f.startsWith('target/') || f.startsWith('__test__/'))).toEqual([])
  const binary = packed.files.find((f) => f.path.endsWith('.node'))
  expect(binary.size).toBe(fs.statSync(path.join(root, `peertube-native-views.${target}.node`)).size)

  const app = path.join(dir, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }))
  npm(['install', '--offline', '--no-audit', '--no-fund', path.join(dir, packed.filename)], app)
  const script = `
    const views = require('peertube-native-views')
    const counters = new views.VideoViewerCounters({ autoStart: false, loadVideo: async () => null, notifyClients: () => {}, sendView: async () => {} })
    counters.addRemoteViewerOnLocalVideo({ video: { id: 1, uuid: 'u-1', remote: false }, viewerId: 'r-1', viewerExpires: Date.now() + 60000 })
    console.log(JSON.stringify({ total: counters.getTotalViewersOf({ id: 1, uuid: 'u-1', remote: false }), exports: Object.keys(views).sort() }))
    counters.close()
  `
  const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8' }))
  expect(out.total).toBe(1)
  expect(out.exports).toEqual(expect.arrayContaining(['VideoViewerCounters', 'VideoViewerStats', 'VideoViews', 'VideoViewsManager', 'collectMetrics']))
}, 120_000)
