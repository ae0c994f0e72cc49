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

test("PeerTube 8.x: the adapter's data paths type-check against @peertube/peertube-types 8.2.3, and a wrong device list does not", () => {
  const types8 = path.join(project, 'types-8')
  const ok = typecheck(types8)
  expect(ok.output).toBe('')
  expect(ok.status).toBe(0)
  const dir = fs.mkdtempSync(path.join(types8, '.typecheck-negative-'))
  try {
    fs.writeFileSync(path.join(dir, 'wrong.ts'), [
      "import type { VideoStatsUserAgentDevice } from '@peertube/peertube-types-8'",
      "export const device: VideoStatsUserAgentDevice = 'phone'",
      '',
    ].join('\n'))
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.json', include: ['*.ts', '../check.ts', '../../native-host.ts'] }))
    const wrong = typecheck(dir)
    expect(wrong.status).not.toBe(0)
    expect(wrong.output).toMatch(/wrong\.ts\(2,.*error TS2322/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}, 60000)

test("PeerTube 8.x's redis configuration (CONFIG.REDIS of the 8.2.3 declarations) has no key the engine does not read", () => {
  // CONFIG is not exported from the bundle: read its REDIS block from the declaration text.
  const text = fs.readFileSync(path.join(root, 'node_modules', '@peertube', 'peertube-types-8', 'index.d.ts'), 'utf8')
  const start = text.indexOf('    REDIS: {')
  expect(start).toBeGreaterThan(0)
  let depth = 0
  let end = start
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++
    if (text[i] === '}' && --depth === 0) {
      end = i
      break
    }
  }
  const keys = [...text.slice(start, end).matchAll(/(?:readonly )?([A-Za-z_]+)\??:/g)].map((m) => m[1]).filter((k) => k !== 'REDIS')
  // The YAML keys PeerTube 8 reads (config.ts lower-cases CONFIG's names), each read by options.rs.
  expect(keys.sort()).toEqual(
    ['AUTH', 'CA', 'CA', 'CERT', 'CERT', 'DB', 'ENABLED', 'ENABLE_TLS', 'ENABLE_TLS', 'HOSTNAME', 'KEY', 'KEY', 'MASTER_NAME', 'PASSWORD', 'PORT', 'REJECT_UNAUTHORIZED', 'REJECT_UNAUTHORIZED', 'SENTINEL', 'SENTINELS', 'SOCKET', 'TLS_SETTINGS', 'TLS_SETTINGS', 'host', 'port'].sort(),
  )
  const reader = fs.readFileSync(path.join(root, 'crates', 'node', 'src', 'binding', 'options.rs'), 'utf8')
  for (const key of new Set(keys.map((k) => k.toLowerCase()))) expect([key, reader.includes(`"${key}"`)]).toEqual([key, true])
})
