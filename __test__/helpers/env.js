// Shared test helpers: the private Redis from global setup, a unique prefix per test, and a
// recording logger.
const Redis = require('ioredis')

function redisUrl() {
  const url = process.env.REDIS_URL
  if (!url) throw new Error('REDIS_URL is not set: jest global setup did not run')
  return new URL(url)
}

/** PeerTube's `redis` config section pointing at the test server. */
function redisSection(overrides = {}) {
  const url = redisUrl()
  return { hostname: url.hostname, port: Number(url.port), auth: null, db: 0, ...overrides }
}

/** A separate client (ioredis, what PeerTube uses) to inspect and seed Redis. */
function inspector() {
  const url = redisUrl()
  return new Redis({ host: url.hostname, port: Number(url.port), lazyConnect: false, maxRetriesPerRequest: 1 })
}

let counter = 0
/** A webserverHost unique to this test, so tests never see each other's keys. */
function uniqueHost() {
  counter += 1
  return `test-${process.pid}-${Date.now()}-${counter}.example:9000`
}

function recordingLogger(level) {
  const records = []
  const make = (name) => (message, meta) => records.push({ level: name, message, meta })
  const logger = { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') }
  if (level) logger.level = level
  return { logger, records }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(predicate, { timeout = 5000, interval = 20 } = {}) {
  const start = Date.now()
  for (;;) {
    const value = await predicate()
    if (value) return value
    if (Date.now() - start > timeout) throw new Error('waitFor timed out')
    await sleep(interval)
  }
}

module.exports = { redisUrl, redisSection, inspector, uniqueHost, recordingLogger, sleep, waitFor }
