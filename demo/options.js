// Demo options: `--name value` flags, else `DEMO_NAME` environment variables, else defaults.
'use strict'

const path = require('node:path')

const DEFAULTS = {
  viewers: 2000, // local viewers over the whole run
  remote: 200, // viewers watching from other instances (View activities with `expires`)
  duration: 30, // seconds of audience; then the demo waits for the counters and stats to drain
  heartbeat: 5, // video seconds between two heartbeats of a player (PeerTube's player: 5)
  speed: 2, // video seconds per real second (2: a heartbeat every 2.5 s real, watch time twice as fast)
  seekRate: 0.08, // probability that a heartbeat is a seek
  counterLifetime: 10, // seconds a viewer counts after its last heartbeat (PeerTube: 2 minutes)
  statsLifetime: 5, // seconds of inactivity before a viewer's stats are stored (PeerTube: 1 hour)
  drainTimeout: 40, // most seconds to wait for the counters and stats to drain
  seed: 7,
  chart: path.join(__dirname, 'chart.svg'),
  summary: null, // path of a JSON summary, if wanted
}

const HELP = `Usage: npm run demo -- [--viewers ${DEFAULTS.viewers}] [--remote ${DEFAULTS.remote}] [--duration ${DEFAULTS.duration}]
  [--heartbeat ${DEFAULTS.heartbeat}] [--speed ${DEFAULTS.speed}] [--seek-rate ${DEFAULTS.seekRate}] [--counter-lifetime ${DEFAULTS.counterLifetime}]
  [--stats-lifetime ${DEFAULTS.statsLifetime}] [--drain-timeout ${DEFAULTS.drainTimeout}] [--seed ${DEFAULTS.seed}] [--chart demo/chart.svg] [--summary file.json]
Every flag also reads DEMO_<NAME> (e.g. DEMO_VIEWERS=500). REDIS_URL=redis://host:port uses that
server (keys under a unique prefix, removed at the end) instead of a private redis-server.`

const camel = (flag) => flag.replace(/-([a-z])/g, (_, c) => c.toUpperCase())
const envName = (key) => `DEMO_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`

function parseOptions(argv = process.argv.slice(2), env = process.env) {
  const options = { ...DEFAULTS }
  for (const key of Object.keys(DEFAULTS)) if (env[envName(key)] !== undefined) options[key] = env[envName(key)]
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--help' || arg === '-h') return { help: HELP }
    const match = arg.match(/^--([a-z-]+)(?:=(.*))?$/)
    const key = match && camel(match[1])
    if (!match || !(key in DEFAULTS)) throw new Error(`unknown option ${arg}\n${HELP}`)
    options[key] = match[2] !== undefined ? match[2] : argv[++i]
    if (options[key] === undefined) throw new Error(`${arg} needs a value`)
  }
  for (const key of Object.keys(DEFAULTS)) {
    if (key === 'chart' || key === 'summary') continue
    const value = Number(options[key])
    const integer = ['viewers', 'remote', 'seed'].includes(key)
    if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) throw new Error(`--${key}: expected a ${integer ? 'whole ' : ''}number >= 0, got ${options[key]}`)
    options[key] = value
  }
  if (options.duration <= 0 || options.speed <= 0 || options.heartbeat <= 0) throw new Error('--duration, --speed and --heartbeat must be > 0')
  if (options.seekRate > 1) throw new Error('--seek-rate is a probability (0 to 1)')
  // A viewer silent for a lifetime is gone: lifetimes shorter than 1.5 heartbeat intervals
  // would store a viewer in the middle of its watch and drop it from the count between beats.
  const interval = options.heartbeat / options.speed
  for (const key of ['statsLifetime', 'counterLifetime']) {
    if (options[key] < 1.5 * interval) throw new Error(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be at least 1.5 heartbeat intervals (${1.5 * interval} s): a viewer would expire between two heartbeats`)
  }
  return { options }
}

module.exports = { parseOptions, DEFAULTS, HELP }
