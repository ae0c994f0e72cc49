// `npm run demo` with tiny numbers, as a child process on the test Redis (REDIS_URL): exit
// code, the summary's figures against each other and against the printed text, the progress
// lines, the SVG chart, and no key left under the demo's prefix.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { inspector } = require('../helpers/env')
const { parseOptions, DEFAULTS } = require('../../demo/options')
const { ticks } = require('../../demo/chart')

const root = path.join(__dirname, '..', '..')

function runDemo(args) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'demo', 'run.js'), ...args], { env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('exit', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Well-formedness of the hand-written SVG: balanced tags, quoted attributes. */
function elements(svg) {
  const stack = []
  const names = []
  for (const [, close, name, attrs, selfClose] of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    if (close) {
      if (stack.pop() !== name) throw new Error(`unbalanced </${name}>`)
    } else {
      names.push({ name, attrs })
      if (!selfClose) stack.push(name)
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join('>, <')}>`)
  const stripped = svg.replace(/<(\/?)([a-zA-Z]+)((?:\s+[a-zA-Z0-9:-]+="[^"<]*")*)\s*(\/?)>/g, '')
  if (/[<>]/.test(stripped)) throw new Error('stray < or > in the SVG')
  return names
}

describe('demo', () => {
  let dir
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-demo-'))
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  test('50 viewers for 5 s: consistent summary, progress lines, a valid SVG, no keys left', async () => {
    const chart = path.join(dir, 'chart.svg')
    const summaryFile = path.join(dir, 'summary.json')
    const args = ['--viewers', '50', '--remote', '10', '--duration', '5', '--speed', '5', '--counter-lifetime', '2', '--stats-lifetime', '2', '--drain-timeout', '15', '--chart', chart, '--summary', summaryFile]
    const { code, stdout, stderr } = await runDemo(args)
    expect(stderr).toBe('')
    expect(code).toBe(0)

    const s = JSON.parse(fs.readFileSync(summaryFile, 'utf8'))
    expect(s.redis).toMatch(/\(REDIS_URL\)$/)
    expect(s.ok).toBe(true)
    expect(Object.values(s.checks).every(Boolean)).toBe(true)
    expect(s.heartbeatErrors).toBe(0)
    // 50 viewers with a heartbeat every second for at most 5 s, each sending at least one.
    expect(s.heartbeats).toBeGreaterThanOrEqual(50)
    expect(s.heartbeats).toBeLessThanOrEqual(50 * 6)
    expect(s.seeks).toBeLessThan(s.heartbeats)
    expect(s.peakViewers).toBeGreaterThan(25)
    expect(s.peakViewers).toBeLessThanOrEqual(60)
    expect(s.peakRemoteViewers).toBeGreaterThan(0)
    expect(s.peakRemoteViewers).toBeLessThanOrEqual(10)
    expect(s.remoteRenewals).toBeGreaterThanOrEqual(10)
    expect(s.finalViewers).toBe(0)
    expect(s.viewersStored).toBe(s.viewersExpectedStored)
    expect(s.viewersStored + s.viewersWithoutWatchTime).toBe(50)
    expect(s.viewersStored).toBeGreaterThan(0)
    expect(s.storedMismatches).toBe(0)
    expect(s.watchTimeStored).toBe(s.watchTimeWatched)
    expect(s.watchTimeStored).toBeGreaterThan(0)
    expect(s.viewsCounted).toBe(s.viewsExpected)
    expect(s.viewsDrained).toBe(s.viewsExpected)
    expect(s.viewsCounted).toBeGreaterThan(0)
    expect(s.viewsCounted).toBeLessThanOrEqual(s.viewersStored)

    // The printed summary says the same.
    expect(stdout).toContain(`peak ${s.peakViewers} concurrent`)
    expect(stdout).toContain(`${s.heartbeats} accepted (${s.seeks} seeks), 0 refused`)
    expect(stdout).toContain(`${s.viewersStored} viewers via saveViewerStats (expected ${s.viewersExpectedStored})`)
    expect(stdout).toContain(`(${s.watchTimeStored} s / ${s.watchTimeWatched} s; 0 viewers differ)`)
    expect(stdout).toContain(`${s.viewsCounted} counted, ${s.viewsDrained} drained from the buffer, ${s.viewsExpected} expected`)
    expect(stdout).not.toContain('FAILED')
    // Not a terminal: one progress line per second, no carriage returns.
    const progress = stdout.split('\n').filter((l) => /^\s*\d+\.\d s \| viewers\s+\d+ \(\d+ remote\) \|\s+\d+ heartbeats\/s \| pending writes\s+\d+/.test(l))
    expect(progress.length).toBeGreaterThanOrEqual(6)
    expect(stdout).not.toContain('\r')
    expect(Math.max(...progress.map((l) => Number(l.match(/viewers\s+(\d+)/)[1])))).toBe(s.peakViewers)

    // The chart: well-formed SVG, three series with one point per sample, inside the picture.
    const svg = fs.readFileSync(chart, 'utf8')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true)
    const els = elements(svg)
    const lines = els.filter((e) => e.name === 'polyline').map((e) => e.attrs.match(/points="([^"]*)"/)[1].split(' ').map((p) => p.split(',').map(Number)))
    expect(lines).toHaveLength(3)
    expect(new Set(lines.map((l) => l.length)).size).toBe(1)
    expect(lines[0].length).toBe(progress.length)
    for (const [x, y] of lines.flat()) {
      expect(x).toBeGreaterThanOrEqual(0)
      expect(x).toBeLessThanOrEqual(960)
      expect(y).toBeGreaterThanOrEqual(0)
      expect(y).toBeLessThanOrEqual(460)
    }
    // The viewers line starts and ends on the x axis (0 viewers), and the two watch time lines
    // end at the same height (stored = watched).
    const [viewers, watched, stored] = lines
    expect(viewers[0][1]).toBe(viewers[viewers.length - 1][1])
    expect(watched[watched.length - 1][1]).toBe(stored[stored.length - 1][1])
    for (const label of ['concurrent viewers', 'watch time watched', 'watch time stored', 'time (s)']) expect(svg).toContain(label)

    // Nothing left on the shared server under the demo's prefix.
    const redis = inspector()
    try {
      expect(s.redisPrefix).toMatch(/^redis-demo-\d+-\d+\.local-$/)
      expect(await redis.keys(`${s.redisPrefix}*`)).toEqual([])
    } finally {
      await redis.quit()
    }
  }, 30000)

  test('options: flags over DEMO_* variables over defaults; bad values are refused', () => {
    const { options } = parseOptions(['--viewers', '10', '--seek-rate=0.5'], { DEMO_VIEWERS: '99', DEMO_DURATION: '12' })
    expect(options).toMatchObject({ viewers: 10, seekRate: 0.5, duration: 12, remote: DEFAULTS.remote })
    expect(() => parseOptions(['--viewers', '1.5'], {})).toThrow(/--viewers/)
    expect(() => parseOptions(['--speed', '0'], {})).toThrow(/> 0/)
    expect(() => parseOptions(['--nope', '1'], {})).toThrow(/unknown option --nope/)
    // Lifetimes shorter than 1.5 heartbeat intervals would expire viewers between two beats.
    expect(() => parseOptions(['--speed', '5', '--stats-lifetime', '1'], {})).toThrow(/--stats-lifetime must be at least 1.5 heartbeat intervals/)
    expect(() => parseOptions(['--counter-lifetime', '3'], {})).toThrow(/--counter-lifetime/)
    expect(parseOptions(['--help'], {}).help).toMatch(/npm run demo/)
  })

  test('chart ticks are round numbers covering the data', () => {
    expect(ticks(1974)).toMatchObject({ step: 500, top: 2000, values: [0, 500, 1000, 1500, 2000] })
    expect(ticks(39.5, 8)).toMatchObject({ step: 5, top: 40 })
    expect(ticks(0.3)).toMatchObject({ step: 0.1, top: 0.3 })
  })
})
