#!/usr/bin/env node
// `npm test`: the Rust unit tests (cargo test), then every jest spec against a private
// redis-server started by jest's global setup. Prints one closing line `N passed, N failed`
// and exits non-zero if anything failed.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts })

let passed = 0
let failed = 0

// 1. The addon must be built (npm install builds it in release mode).
const binary = fs.readdirSync(root).find((f) => f.endsWith('.node'))
if (!binary) {
  console.log('No native binary found: building it (npm run build).')
  const build = run('npm', ['run', 'build'], { stdio: 'inherit' })
  if (build.status !== 0) process.exit(build.status || 1)
}

// 2. Rust unit tests.
const cargo = run('cargo', ['test', '--workspace', '--color', 'never'], { stdio: ['ignore', 'pipe', 'inherit'] })
process.stdout.write(cargo.stdout || '')
for (const m of (cargo.stdout || '').matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
  passed += Number(m[1])
  failed += Number(m[2])
}
if (cargo.status !== 0 && failed === 0) failed += 1

// 3. jest, with a JSON report for the totals.
const report = path.join(root, '.jest-results.json')
fs.rmSync(report, { force: true })
const jestBin = require.resolve('jest/bin/jest')
const jest = run(process.execPath, [jestBin, '--ci', '--json', `--outputFile=${report}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
})
if (fs.existsSync(report)) {
  const results = JSON.parse(fs.readFileSync(report, 'utf8'))
  passed += results.numPassedTests
  failed += results.numFailedTests + results.numRuntimeErrorTestSuites
  if (results.numTotalTests === 0) failed += 1
} else {
  failed += 1
}
if (jest.status !== 0 && failed === 0) failed += 1

console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
