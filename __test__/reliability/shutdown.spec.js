// Shutdown loses nothing: SIGTERM in a child process using the documented pattern, and close()
// in the middle of a sync. Every heartbeat accepted before close() is in Redis afterwards.
const { spawn } = require('node:child_process')
const path = require('node:path')
const { VideoViewerStats } = require('../../index.js')
const { inspector, redisSection, uniqueHost, waitFor } = require('../helpers/env')

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

test('SIGTERM: every heartbeat accepted before close() is in Redis afterwards', async () => {
  const host = uniqueHost()
  const child = spawn(process.execPath, [path.join(__dirname, 'shutdown-child.js')], {
    env: { ...process.env, WEBSERVER_HOST: host },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lastAccepted = new Map()
  let accepted = 0
  let buffered = ''
  child.stdout.on('data', (chunk) => {
    buffered += chunk
    const lines = buffered.split('\n')
    buffered = lines.pop()
    for (const line of lines) {
      const [, sessionId, t] = line.split(' ')
      lastAccepted.set(sessionId, Number(t))
      accepted++
    }
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  await waitFor(() => accepted >= 2000, { timeout: 20000 })
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  expect(await exited).toBe(0)
  expect(stderr).toBe('')
  console.log(`heartbeats accepted before SIGTERM: ${accepted}`)

  for (const [sessionId, t] of lastAccepted) {
    const json = JSON.parse(await redis.get(`redis-${host}-local-video-viewer-stats-${sessionId}-7`))
    // The viewer watched 0..t in one section: its end is the last accepted heartbeat.
    expect({ sessionId, sections: json.watchSections }).toEqual({ sessionId, sections: [{ start: 0, end: t }] })
  }
  expect(lastAccepted.size).toBe(20)
})

test('close() in the middle of a sync writes everything', async () => {
  const host = uniqueHost()
  const stats = new VideoViewerStats({ redis: redisSection(), webserverHost: host, autoStart: false, saveViewerStats: async () => {} })
  const video = { id: 8, uuid: 'ffffffff-0000-4000-8000-000000000008' }
  for (let i = 0; i < 3000; i++) await stats.addLocalViewer({ video, currentTime: 4, sessionId: `mid-${i}` })
  const sync = stats.syncRedisWrites()
  // Heartbeats accepted while that sync runs must not be lost by close() either.
  for (let i = 0; i < 100; i++) await stats.addLocalViewer({ video, currentTime: 9, sessionId: `mid-${i}` })
  await stats.close()
  await sync
  expect(await redis.scard(`redis-${host}-local-video-viewer-stats-keys`)).toBe(3000)
  for (const i of [0, 50, 99]) {
    expect(JSON.parse(await redis.get(`redis-${host}-local-video-viewer-stats-mid-${i}-8`)).watchSections).toEqual([{ start: 4, end: 9 }])
  }
  expect(JSON.parse(await redis.get(`redis-${host}-local-video-viewer-stats-mid-2999-8`)).watchSections).toEqual([{ start: 4, end: 4 }])
})
