#!/usr/bin/env node
// `npm run bench:user-agents`: the native user-agent parser against ua-parser-js 2.x (what
// PeerTube 8 runs), in the same run: agreement on three real-traffic corpora from the npm
// registry (bench/user-agent-corpora.js) and speed on every distinct user agent of them.
//   BENCH_ROUNDS=9 SHOW=5 node bench/user-agents.js   (build the release addon first: npm run build)
'use strict'

const { parseUserAgent } = require('../index.js')
const { FIELDS, agreement, loadCorpora, packageVersion, reference } = require('./user-agent-corpora')
const { UAParser } = require('ua-parser-js')

const ROUNDS = Math.max(3, Number(process.env.BENCH_ROUNDS || 9))
const SHOW = Number(process.env.SHOW || 0)

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}
const pct = (x) => `${(x * 100).toFixed(2)} %`

/** µs per user agent of `parse` over `list`, one timed pass (results kept so nothing is optimised away). */
function timePass(list, parse) {
  let sink = 0
  const start = process.hrtime.bigint()
  for (const ua of list) sink += parse(ua).client ? 1 : 0
  const us = Number(process.hrtime.bigint() - start) / 1e3 / list.length
  if (sink < 0) console.log(sink)
  return us
}

function main() {
  const corpora = loadCorpora()
  console.log(`peertube-native-views user agents: node ${process.version}, ua-parser-js ${packageVersion('ua-parser-js')}\n`)
  console.log('## Agreement with ua-parser-js (share of user agents with the same answer)\n')
  console.log('| corpus | user agents | client | device | operatingSystem |')
  console.log('|---|---:|---:|---:|---:|')
  const mismatches = []
  for (const corpus of corpora) {
    const result = agreement(corpus, parseUserAgent)
    console.log(`| ${corpus.source} | ${corpus.entries.length} | ${FIELDS.map((f) => pct(result[f].share)).join(' | ')} |`)
    for (const f of FIELDS) for (const m of result[f].mismatches) mismatches.push({ corpus: corpus.name, field: f, ...m })
  }
  if (SHOW) for (const m of mismatches.slice(0, SHOW)) console.log(JSON.stringify(m))

  const list = [...new Set(corpora.flatMap((c) => c.entries.map((e) => e.ua)))]
  const uaParser = (ua) => {
    const r = new UAParser(ua).getResult()
    return { client: r.browser.name, device: r.device.type, operatingSystem: r.os.name }
  }
  const peertube = (ua) => reference(ua)
  // Warm both up (JIT, the addon's first calls) before timing.
  for (let i = 0; i < 2; i++) {
    timePass(list, parseUserAgent)
    timePass(list, uaParser)
  }
  const native = []
  const js = []
  const ratios = []
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate the order so neither side always runs on the warmer machine.
    let n, j
    if (r % 2) {
      j = timePass(list, uaParser)
      n = timePass(list, parseUserAgent)
    } else {
      n = timePass(list, parseUserAgent)
      j = timePass(list, uaParser)
    }
    native.push(n)
    js.push(j)
    ratios.push(j / n)
  }
  const wholeRef = median(Array.from({ length: 3 }, () => timePass(list, peertube)))
  console.log(`\n## Speed (${list.length} distinct user agents, ${ROUNDS} rounds, medians)\n`)
  console.log('| parser | µs per user agent | ratio |')
  console.log('|---|---:|---:|')
  console.log(`| ua-parser-js \`new UAParser(ua).getResult()\` (baseline) | ${median(js).toFixed(2)} | 1x |`)
  console.log(`| native \`parseUserAgent(ua)\` (through napi, a JS object back) | ${median(native).toFixed(3)} | ${median(ratios).toFixed(1)}x |`)
  console.log(`\nratio per round: ${ratios.map((x) => x.toFixed(1)).join(', ')}; PeerTube's full mapping (reference()) ${wholeRef.toFixed(2)} µs`)
  console.log('In the engine a user agent is parsed once and remembered (UserAgents): a returning user agent costs a hash lookup.')
}

main()
