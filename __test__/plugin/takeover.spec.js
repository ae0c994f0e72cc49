// The plugin's takeover mode in a process shaped like PeerTube's (ES modules of a fake built
// PeerTube 6.1, see fake-peertube-tree.js): one viewer's heartbeats go through PeerTube's own
// VideoViewsManager.Instance while takeover goes on and off, and its watch sections in Redis
// (PeerTube's keys and JSON) come out whole, written by stock, engine and stock again.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { redisUrl, inspector, uniqueHost } = require('../helpers/env')
const { writeFakePeerTubeTree } = require('./fake-peertube-tree')
const { peertubeRootOf, rebaseAdapter } = require('../../plugin/lib/takeover')

let redis
const dirs = []
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
})

test('takeover on and off while a viewer watches: nothing lost, each side runs the views in turn', () => {
  const root = writeFakePeerTubeTree()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'takeover-work-'))
  dirs.push(root, work)
  const host = uniqueHost()
  const child = spawnSync(process.execPath, [path.join(__dirname, 'takeover-child.js'), root, redisUrl(), host, work], { encoding: 'utf8', timeout: 60_000 })
  const out = JSON.parse(child.stdout.trim().split('\n').pop())
  expect(out.crash).toBeUndefined()
  expect(child.status).toBe(0)

  expect(out.pendingBeforeTakeover).toBe(1)
  expect(out).toMatchObject({ state: 'on', error: null, afterTakeover: { cache: 0, pending: 0 } })
  // The engine continued the viewer PeerTube had started: [0, 10] -> [0, 20] counts a view.
  expect(out.answers).toEqual([
    { successView: true, successViewer: true },
    { successView: false, successViewer: false },
    { successView: false, successViewer: false },
  ])
  expect(out.viewersDuringTakeover).toBe(1)
  expect(out.stockViewsDuringTakeover).toBe(2) // only the two heartbeats before takeover
  // The buffer scheduler and the hourly job went through the engine.
  expect(out.calls.increments).toEqual([{ id: 41, views: 1 }])
  expect(out.calls.federated).toEqual([41])
  expect(out.hourlyAnswer).toEqual([])
  expect(out.calls.hourly.map((r) => [r.videoId, r.views])).toEqual([[41, 1]])
  expect(out.calls.stockDrains).toBe(0)
  expect(out.calls.stockProcessing).toBe(0)

  // Off: PeerTube's own code is back and went on from what the engine wrote.
  expect(out.stateAfterOff).toBe('off')
  expect(out.viewersAfterOff).toBe(-1) // the fake stock manager's answer
  expect(out.calls.stockViews).toBe(3)
  expect(out.stockProcessingRestored).toBe(true)
  expect(out.errors).toEqual([])
  return redis.get(`redis-${host}-local-video-viewer-stats-alice-41`).then(async (json) => {
    const stats = JSON.parse(json)
    expect(stats.watchSections).toEqual([
      { start: 0, end: 20 },
      { start: 30, end: 40 },
    ])
    expect(stats.watchTime).toBe(30)
    expect(await redis.smembers(`redis-${host}-local-video-viewer-stats-keys`)).toEqual(['local-video-viewer-stats-alice-41'])
    expect(await redis.get(`redis-${host}-views-cccccccc-0000-4000-8000-000000000041-alice`)).toBe('1')
  })
}, 60_000)

test("the adapter is pointed at the running PeerTube's modules, and PeerTube's directory is found from the process", () => {
  const root = writeFakePeerTubeTree()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'takeover-work-'))
  dirs.push(root, work)
  const manager = rebaseAdapter({ packageRoot: path.join(__dirname, '..', '..'), line: '6.1', peertubeRoot: root, outDir: work })
  expect(manager).toBe(`file://${work}/core/lib/views/video-views-manager.js`)
  const code = fs.readFileSync(path.join(work, 'core/lib/views/video-views-manager.js'), 'utf8')
  expect(code).toContain(`from 'file://${root}/dist/core/helpers/logger.js'`)
  expect(code).toContain(`from 'file://${root}/node_modules/config/index.js'`)
  expect(code).toContain(`from 'file://${path.join(__dirname, '..', '..')}/index.js'`)
  expect(code).toContain("from './native-host.js'") // the adapter's own files keep their layout
  expect(code).not.toMatch(/from '\.\.\//)

  expect(peertubeRootOf(path.join(root, 'dist', 'server.js'), '/')).toEqual({ root, version: '6.1.0' })
  expect(peertubeRootOf('/usr/bin/jest', root)).toEqual({ root, version: '6.1.0' })
  expect(peertubeRootOf('/usr/bin/jest', os.tmpdir())).toBeNull()
})
