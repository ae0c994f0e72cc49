// The request and option declarations of the Rust sources, seen from JavaScript: index.js
// builds its positional calls from requestFields(), so each field must reach the native slot of
// its name; and the defaults the README documents are the ones the engines have.
const fs = require('node:fs')
const path = require('node:path')
const views = require('../index.js')
const { redisSection, uniqueHost } = require('./helpers/env')

// Read for PeerTube >= 7.2 only: the engines below are made for 8.0 so that every field is read.
const USER_AGENT = ['userAgent', 'client', 'device', 'operatingSystem']

test('requestFields() gives the positional order of the three hot entries', () => {
  expect(views.requestFields()).toEqual({
    'VideoViewerStats.addLocalViewer': ['video.id', 'video.uuid', 'currentTime', 'ip', 'sessionId', 'viewEvent', ...USER_AGENT],
    'VideoViewerCounters.addLocalViewer': ['video.id', 'video.uuid', 'video.remote', 'sessionId'],
    'VideoViewsManager.processLocalView': ['video.id', 'video.uuid', 'video.remote', 'video.duration', 'video.isLive', 'currentTime', 'ip', 'sessionId', 'viewEvent', ...USER_AGENT],
  })
})

/** Sets `value` at a dotted path of a copy of `input`. */
function withValueAt(input, fieldPath, value) {
  const copy = { ...input, video: { ...input.video } }
  const [first, second] = fieldPath.split('.')
  if (second) copy[first][second] = value
  else copy[first] = value
  return copy
}

const host = { saveViewerStats: async () => {}, loadVideo: async () => null, notifyClients: () => {}, sendView: async () => {}, incrementVideoViews: async () => {}, saveHourlyViews: async () => {} }
const engines = []
afterAll(() => Promise.all(engines.map((e) => e.close())))

const ENTRIES = [
  {
    entry: 'VideoViewerStats.addLocalViewer',
    make: () => new views.VideoViewerStats({ redis: redisSection(), webserverHost: uniqueHost(), autoStart: false, peertubeVersion: '8.0', saveViewerStats: async () => {} }),
    call: (engine, input) => engine.addLocalViewer(input),
    valid: { video: { id: 1, uuid: 'u-1' }, currentTime: 1, ip: '1.2.3.4', sessionId: 's-1', viewEvent: 'seek' },
  },
  {
    entry: 'VideoViewerCounters.addLocalViewer',
    make: () => new views.VideoViewerCounters({ autoStart: false, ...host }),
    call: (engine, input) => engine.addLocalViewer(input),
    valid: { video: { id: 1, uuid: 'u-1', remote: false }, sessionId: 's-1' },
  },
  {
    entry: 'VideoViewsManager.processLocalView',
    make: () => new views.VideoViewsManager({ redis: redisSection(), webserverHost: uniqueHost(), autoStart: false, peertubeVersion: '8.0', host }),
    call: (engine, input) => engine.processLocalView(input),
    valid: { video: { id: 1, uuid: 'u-1', remote: false, duration: 100, isLive: false }, currentTime: 1, ip: '1.2.3.4', sessionId: 's-1', viewEvent: 'seek' },
  },
]

test.each(ENTRIES)('$entry: a wrong value at each field is reported under that field, through the JS wrapper', async ({ entry, make, call, valid }) => {
  const engine = make()
  engines.push(engine)
  for (const fieldPath of views.requestFields()[entry]) {
    // An object is of the wrong type for every field: the native reader names the field it read it as.
    const err = await Promise.resolve(call(engine, withValueAt(valid, fieldPath, { wrong: true }))).then(
      () => null,
      (e) => e,
    )
    expect(err).not.toBeNull()
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.message.startsWith(`${fieldPath} `)).toBe(true)
  }
  await expect(Promise.resolve(call(engine, valid))).resolves.not.toThrow()
})

test("the README's Configuration table documents every option with its real default", () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8')
  const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('Durations are milliseconds'))
  const documented = Object.fromEntries([...table.matchAll(/^\| `(\w+)` \| `([^`]+)` \|/gm)].map((m) => [m[1], m[2]]))
  const defaults = views.defaultOptions()
  expect(Object.keys(defaults).length).toBeGreaterThanOrEqual(15)
  for (const [name, value] of Object.entries(defaults)) {
    expect([name, documented[name]]).toEqual([name, value])
  }
})
