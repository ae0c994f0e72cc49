#!/usr/bin/env node
// Drives a running PeerTube through its REST API for the rolling-upgrade, rollback and takeover
// scenarios: viewers watch a video in steps, the server may be restarted between steps (stock
// <-> native, by whoever runs this), and `check` compares PeerTube's stats endpoints with what
// the viewers watched. State (token, video, what each viewer watched) is kept in a JSON file.
//
//   watch-across-restarts.mjs setup  --url U --password P --file video.webm --state S
//   watch-across-restarts.mjs watch  --state S --viewers a,b --from 0 --to 10
//   watch-across-restarts.mjs check  --state S [--wait-ms 6000]
//   watch-across-restarts.mjs api    --state S --method PUT --path /api/v1/... [--body JSON]
//
// `watch` sends PeerTube's player heartbeats (POST /api/v1/videos/{id}/views, every 5 s of
// video, the first with viewEvent 'seek' when a viewer starts) from a distinct X-Forwarded-For
// per viewer. `check` runs the debug commands that persist expired viewers and the views buffer
// (test or dev instances), then reads /stats/overall and the video's views. Exit code 1 when
// anything differs.
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'

const { positionals, values: args } = parseArgs({
  allowPositionals: true,
  options: {
    url: { type: 'string' }, password: { type: 'string' }, file: { type: 'string' }, state: { type: 'string' },
    viewers: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, 'wait-ms': { type: 'string', default: '6000' },
    method: { type: 'string', default: 'GET' }, path: { type: 'string' }, body: { type: 'string' },
  },
})
const command = positionals[0]
const load = () => JSON.parse(readFileSync(args.state, 'utf8'))
const save = (state) => writeFileSync(args.state, JSON.stringify(state, null, 2) + '\n')

async function api(state, method, path, { body, form, headers = {}, expect = [200, 204] } = {}) {
  const init = { method, headers: { ...headers } }
  if (state?.token) init.headers.authorization = `Bearer ${state.token}`
  if (form) init.body = form
  else if (body) {
    init.headers['content-type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  const res = await fetch(state.url + path, init)
  const text = await res.text()
  if (!expect.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`)
  return text ? JSON.parse(text) : null
}

async function setup() {
  const state = { url: args.url.replace(/\/$/, ''), watched: {} }
  const client = await api(state, 'GET', '/api/v1/oauth-clients/local')
  const token = await api(state, 'POST', '/api/v1/users/token', {
    form: new URLSearchParams({ client_id: client.client_id, client_secret: client.client_secret, grant_type: 'password', username: 'root', password: args.password }),
  })
  state.token = token.access_token
  const me = await api(state, 'GET', '/api/v1/users/me')
  const form = new FormData()
  form.set('name', 'watched across restarts')
  form.set('channelId', String(me.videoChannels[0].id))
  form.set('privacy', '1')
  form.set('videofile', new Blob([readFileSync(args.file)], { type: 'video/webm' }), basename(args.file))
  const { video } = await api(state, 'POST', '/api/v1/videos/upload', { form })
  state.video = { id: video.id, uuid: video.uuid }
  for (let i = 0; i < 60; i++) {
    const v = await api(state, 'GET', `/api/v1/videos/${video.uuid}`)
    if (v.state.id === 1 && v.duration > 0) break
    await new Promise((r) => setTimeout(r, 500))
  }
  save(state)
  console.log(JSON.stringify({ video: state.video }))
}

/** A viewer's stable X-Forwarded-For (its IP: PeerTube identifies it by IP without sessionId). */
const ipOf = (name) => `10.${(name.charCodeAt(0) % 200) + 1}.${name.length}.${[...name].reduce((s, c) => (s * 31 + c.charCodeAt(0)) % 250, 7) + 1}`

async function watch() {
  const state = load()
  const from = Number(args.from)
  const to = Number(args.to)
  let sent = 0
  for (const name of args.viewers.split(',')) {
    const times = []
    for (let t = from; t <= to; t += 5) times.push(t)
    if (times[times.length - 1] !== to) times.push(to)
    const first = !state.watched[name]
    for (const [i, currentTime] of times.entries()) {
      const body = { currentTime, sessionId: `scenario-${name}`, ...(first && i === 0 ? { viewEvent: 'seek' } : {}) }
      await api(state, 'POST', `/api/v1/videos/${state.video.uuid}/views`, { body, headers: { 'x-forwarded-for': ipOf(name) } })
      sent += 1
    }
    // What PeerTube's section rules make of it: one section, extended from its first start. A
    // viewer persisted by `check` (inactive past its lifetime) starts a new localVideoViewer row.
    const sessions = (state.watched[name] ??= { sessions: [], open: false }).sessions
    if (!state.watched[name].open) sessions.push({ start: from, end: from })
    sessions[sessions.length - 1].end = to
    state.watched[name].open = true
  }
  save(state)
  console.log(JSON.stringify({ heartbeats: sent, viewers: Object.keys(state.watched).length }))
}

async function check() {
  const state = load()
  await new Promise((r) => setTimeout(r, Number(args['wait-ms']))) // VIEW_LIFETIME.VIEWER_STATS is 5 s in test mode
  for (const command of ['process-video-views-buffer', 'process-video-viewers']) {
    await api(state, 'POST', '/api/v1/server/debug/run-command', { body: { command } })
  }
  let stats
  for (let i = 0; i < 40; i++) {
    stats = await api(state, 'GET', `/api/v1/videos/${state.video.uuid}/stats/overall`)
    if (stats.totalViewers >= Object.values(state.watched).reduce((n, w) => n + w.sessions.length, 0)) break
    await new Promise((r) => setTimeout(r, 500))
  }
  const video = await api(state, 'GET', `/api/v1/videos/${state.video.uuid}`)
  const sessions = Object.values(state.watched).flatMap((w) => w.sessions)
  // One view per viewer (views.videos.view_expiration is set long), once a session reached 10 s.
  const views = Object.values(state.watched).filter((w) => w.sessions.some((x) => x.end - x.start >= 10)).length
  const result = {
    expected: { totalViewers: sessions.length, totalWatchTime: sessions.reduce((t, x) => t + x.end - x.start, 0), views },
    got: { totalViewers: stats.totalViewers, totalWatchTime: stats.totalWatchTime, views: video.views },
  }
  for (const w of Object.values(state.watched)) w.open = false
  save(state)
  result.ok = JSON.stringify(result.expected) === JSON.stringify(result.got)
  console.log(JSON.stringify(result))
  process.exitCode = result.ok ? 0 : 1
}

/** One authenticated API call (plugin settings, uninstall, health); prints the answer. */
async function call() {
  const state = load()
  const answer = await api(state, args.method, args.path, { body: args.body ? JSON.parse(args.body) : undefined })
  console.log(JSON.stringify(answer))
}

const commands = { setup, watch, check, api: call }
if (!commands[command] || (command !== 'setup' && !existsSync(args.state ?? ''))) {
  console.error('usage: watch-across-restarts.mjs setup|watch|check --state FILE ... (see the header)')
  process.exit(2)
}
await commands[command]()
