// The PeerTube adapter (integration/peertube) type-checks against this package's generated types
// (index.d.ts, binding.d.ts), PeerTube's published declarations (@peertube/peertube-types 6.0.4)
// and shim-6.1/ for what 6.1 added; a wrong call does not.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..', '..')
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const project = path.join(root, 'integration', 'peertube')

function typecheck(tsconfigPath) {
  const run = spawnSync(process.execPath, [tsc, '--noEmit', '-p', tsconfigPath], { cwd: root, encoding: 'utf8' })
  return { status: run.status, output: run.stdout + run.stderr }
}

test('tsc --noEmit -p integration/peertube exits 0', () => {
  const { status, output } = typecheck(project)
  expect(output).toBe('')
  expect(status).toBe(0)
}, 60000)

test('the check is real: a call with wrong types fails against the same types', () => {
  // A project that extends the adapter's tsconfig with one deliberately wrong file.
  const dir = fs.mkdtempSync(path.join(project, '.typecheck-negative-'))
  try {
    fs.writeFileSync(path.join(dir, 'wrong.ts'), [
      "import { VideoViewsManager } from '../video-views-manager.js'",
      "import { buildNativeHost } from '../native-host.js'",
      "import { peertubePorts } from '../native-ports.js'",
      'export async function wrong () {',
      "  await VideoViewsManager.Instance.processLocalView({ video: { id: 'x' }, currentTime: '1', ip: null })",
      '  const host = buildNativeHost(peertubePorts)',
      "  await host.incrementVideoViews({ videoId: 1, views: '2' })",
      '}',
      '',
    ].join('\n'))
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['*.ts', '../*.ts', '../shim-6.1/*.d.ts'] }))
    const { status, output } = typecheck(dir)
    expect(status).not.toBe(0)
    expect(output).toMatch(/wrong\.ts\(5,.*error TS2322/)
    expect(output).toMatch(/wrong\.ts\(7,.*error TS2322/)
    expect(output).not.toMatch(/integration\/peertube\/(video-views-manager|native-host|native-ports)\.ts/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}, 60000)
