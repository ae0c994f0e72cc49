// Real-traffic user-agent lists from the npm registry (devDependencies, none written here) and
// the reference answers: ua-parser-js 2.x read as PeerTube 8 reads it. Used by
// bench/user-agents.js (agreement and speed) and __test__/user-agent.spec.js (the floor).
'use strict'

const fs = require('node:fs')
const path = require('node:path')
const { UAParser } = require('ua-parser-js')

/** PeerTube's devices (`VideoStatsUserAgentDevice`). */
const DEVICES = new Set(['console', 'embedded', 'mobile', 'smarttv', 'tablet', 'wearable', 'xr', 'desktop'])

/**
 * The corpora: `{ name, source, weighted, entries: [{ ua, weight }] }`, duplicates merged.
 * - user-agents: browser fingerprints sampled from real traffic with their traffic share.
 * - top-user-agents: the most common user agents of real traffic, unweighted.
 * - random-useragent: a long tail of old and rare browsers and devices, unweighted.
 */
const packageDir = (name) => path.join(__dirname, '..', 'node_modules', name)
const readJson = (name, file) => JSON.parse(fs.readFileSync(path.join(packageDir(name), file), 'utf8'))

/** The installed version of a devDependency (read as a file: not every package exports it). */
const packageVersion = (name) => readJson(name, 'package.json').version

function loadCorpora() {
  const merge = (rows) => {
    const byUa = new Map()
    for (const { ua, weight } of rows) {
      if (typeof ua !== 'string' || ua.length === 0) continue
      byUa.set(ua, (byUa.get(ua) ?? 0) + weight)
    }
    return [...byUa].map(([ua, weight]) => ({ ua, weight }))
  }
  // Read as files: the packages do not export their data paths.
  const userAgents = readJson('user-agents', 'dist/user-agents.json')
  const top = readJson('top-user-agents', 'src/index.json')
  const random = readJson('random-useragent', 'useragent-data.json')
  const version = packageVersion
  return [
    {
      name: 'user-agents',
      source: `user-agents@${version('user-agents')} (weighted by traffic share)`,
      weighted: true,
      entries: merge(userAgents.map((r) => ({ ua: r.userAgent, weight: r.weight }))),
    },
    {
      name: 'top-user-agents',
      source: `top-user-agents@${version('top-user-agents')}`,
      weighted: false,
      entries: merge(top.map((ua) => ({ ua, weight: 1 }))),
    },
    {
      name: 'random-useragent',
      source: `random-useragent@${version('random-useragent')} (long tail)`,
      weighted: false,
      entries: merge(random.map((r) => ({ ua: r.userAgent, weight: 1 }))),
    },
  ]
}

/** ua-parser-js's answer in PeerTube's terms: `{ client, device, operatingSystem }`. */
function reference(ua) {
  const result = new UAParser(ua).getResult()
  const client = result.browser.name ?? null
  const type = result.device.type ?? (client ? 'desktop' : null)
  return {
    client,
    device: DEVICES.has(type) ? type : null,
    operatingSystem: result.os.name ?? null,
  }
}

const FIELDS = ['client', 'device', 'operatingSystem']

/**
 * Agreement of `parse` with `reference` on `corpus`: per field, the share (weighted when the
 * corpus is) of user agents with the same answer, and the disagreements.
 */
function agreement(corpus, parse, expected = reference) {
  const total = corpus.entries.reduce((sum, e) => sum + (corpus.weighted ? e.weight : 1), 0)
  const fields = Object.fromEntries(FIELDS.map((f) => [f, { agreed: 0, mismatches: [] }]))
  for (const { ua, weight } of corpus.entries) {
    const want = expected(ua)
    const got = parse(ua)
    for (const field of FIELDS) {
      if ((got[field] ?? null) === want[field]) fields[field].agreed += corpus.weighted ? weight : 1
      else fields[field].mismatches.push({ ua, got: got[field] ?? null, want: want[field] })
    }
  }
  return Object.fromEntries(
    FIELDS.map((f) => [f, { share: fields[f].agreed / total, mismatches: fields[f].mismatches }]),
  )
}

module.exports = { DEVICES, FIELDS, agreement, loadCorpora, packageVersion, reference }
