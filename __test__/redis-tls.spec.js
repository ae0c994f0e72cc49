// Redis over TLS (PeerTube 8's `enable_tls` and `tls_settings`), against real redis-servers
// started with --tls-port on certificates made here (openssl): a CA given as a file or as PEM
// text, `reject_unauthorized`, mutual TLS, refused settings, and Sentinel over TLS with the
// sentinels' own password and `{ host, port }` entries.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const Redis = require('ioredis')
const { VideoViewsManager, VideoViewerStats } = require('../index.js')
const { freePort, startRedis } = require('./helpers/redis-server')
const { uniqueHost } = require('./helpers/env')

let dir
const file = (name) => path.join(dir, name)
const openssl = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })

/** A CA, a server certificate for 127.0.0.1 and localhost, and a client certificate, all PEM. */
function makeCertificates() {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=pnv test CA')
  for (const [name, cn, ext] of [
    ['server', 'localhost', 'subjectAltName=IP:127.0.0.1,DNS:localhost'],
    ['client', 'pnv client', 'extendedKeyUsage=clientAuth'],
  ]) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`)
    fs.writeFileSync(file(`${name}.ext`), `${ext}\n`)
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`)
  }
}

/** A redis-server listening on TLS only; `authClients`: 'no' or 'yes' (mutual TLS). */
async function startTlsRedis({ authClients = 'no', args = [] } = {}) {
  const tlsPort = await freePort()
  const server = await startRedis({
    args: [
      '--port', '0', '--tls-port', String(tlsPort),
      '--tls-cert-file', file('server.pem'), '--tls-key-file', file('server.key'),
      '--tls-ca-cert-file', file('ca.pem'), '--tls-auth-clients', authClients, ...args,
    ],
  })
  return { ...server, tlsPort }
}

/** ioredis over TLS (what PeerTube 8 uses), to look at what the engine wrote. */
function tlsInspector(port, extra = {}) {
  return new Redis({
    host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1,
    tls: { ca: fs.readFileSync(file('ca.pem')), cert: fs.readFileSync(file('client.pem')), key: fs.readFileSync(file('client.key')) },
    ...extra,
  })
}

let plain
let mutual
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-tls-'))
  makeCertificates()
  plain = await startTlsRedis()
  mutual = await startTlsRedis({ authClients: 'yes' })
}, 60_000)
afterAll(async () => {
  await Promise.all([plain, mutual].map((s) => s?.stop()))
  fs.rmSync(dir, { recursive: true, force: true })
})

const engines = []
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close().catch(() => {})))
})

const video = { id: 9, uuid: '99999999-0000-4000-8000-000000000009', remote: false }

function makeStats(redis) {
  const host = uniqueHost()
  const stats = new VideoViewerStats({
    redis: { hostname: '127.0.0.1', connectTimeout: 2000, responseTimeout: 2000, ...redis },
    webserverHost: host,
    geoIp: null,
    autoStart: false,
    saveViewerStats: async () => {},
  })
  engines.push(stats)
  return { stats, key: `redis-${host}-local-video-viewer-stats-tls-viewer-${video.id}` }
}

async function writesThrough(server, redis) {
  const { stats, key } = makeStats({ port: server.tlsPort, ...redis })
  await stats.addLocalViewer({ video, currentTime: 0, sessionId: 'tls-viewer' })
  await stats.addLocalViewer({ video, currentTime: 3, sessionId: 'tls-viewer' })
  const report = await stats.syncRedisWrites()
  const inspector = tlsInspector(server.tlsPort)
  try {
    return { report, stored: await inspector.get(key) }
  } finally {
    inspector.disconnect()
  }
}

describe('TLS to Redis', () => {
  test('a CA file: the viewer is written over TLS, JSON as PeerTube writes it', async () => {
    const { report, stored } = await writesThrough(plain, { enable_tls: true, tls_settings: { ca: file('ca.pem') } })
    expect(report).toEqual({ written: 1 })
    expect(JSON.parse(stored)).toMatchObject({ watchSections: [{ start: 0, end: 3 }], watchTime: 3, videoId: 9 })
  })

  test('the CA as PEM text works the same', async () => {
    const { report } = await writesThrough(plain, {
      enable_tls: true,
      tls_settings: { ca: fs.readFileSync(file('ca.pem'), 'utf8'), reject_unauthorized: true },
    })
    expect(report).toEqual({ written: 1 })
  })

  test('an unknown CA is refused (REDIS_UNAVAILABLE, the viewer kept); reject_unauthorized: false accepts it', async () => {
    const { stats } = makeStats({ port: plain.tlsPort, enable_tls: true })
    await stats.addLocalViewer({ video, currentTime: 1, sessionId: 'tls-viewer' })
    await expect(stats.syncRedisWrites()).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
    expect(stats.getInternalStats().pendingWrites).toBe(1)

    const { report, stored } = await writesThrough(plain, { enable_tls: true, tls_settings: { reject_unauthorized: false } })
    expect(report).toEqual({ written: 1 })
    expect(JSON.parse(stored).watchTime).toBe(3)
  })

  test('without enable_tls a TLS port does not answer; a plain port refuses TLS', async () => {
    const { stats } = makeStats({ port: plain.tlsPort })
    await stats.addLocalViewer({ video, currentTime: 1, sessionId: 'tls-viewer' })
    await expect(stats.syncRedisWrites()).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
  })

  test('mutual TLS: a client certificate and key (files) are sent; without them the server refuses', async () => {
    const withCert = await writesThrough(mutual, {
      enable_tls: true,
      tls_settings: { ca: file('ca.pem'), cert: file('client.pem'), key: file('client.key') },
    })
    expect(withCert.report).toEqual({ written: 1 })
    const { stats } = makeStats({ port: mutual.tlsPort, enable_tls: true, tls_settings: { ca: file('ca.pem') } })
    await stats.addLocalViewer({ video, currentTime: 1, sessionId: 'tls-viewer' })
    await expect(stats.syncRedisWrites()).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
  })

  test.each([
    [{ cert: 'CLIENT' }, /both cert and key/],
    [{ key: 'KEY' }, /both cert and key/],
    [{ ca: '/nonexistent/ca.pem' }, /neither PEM text nor a readable file/],
    [{ reject_unauthorized: 'no' }, /reject_unauthorized/],
  ])('tls_settings %p is INVALID_ARGUMENT at construction', (settings, message) => {
    const resolved = Object.fromEntries(
      Object.entries(settings).map(([k, v]) => [k, v === 'CLIENT' ? file('client.pem') : v === 'KEY' ? file('client.key') : v]),
    )
    expect(() => makeStats({ port: plain.tlsPort, enable_tls: true, tls_settings: resolved })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) }),
    )
  })
})

describe('Sentinel over TLS', () => {
  let master
  let sentinel
  let sentinelTlsPort
  beforeAll(async () => {
    master = await startTlsRedis({ args: ['--requirepass', 'master-secret'] })
    sentinelTlsPort = await freePort()
    const config = file('sentinel.conf')
    fs.writeFileSync(
      config,
      [
        'bind 127.0.0.1',
        'port 0',
        `tls-port ${sentinelTlsPort}`,
        `tls-cert-file ${file('server.pem')}`,
        `tls-key-file ${file('server.key')}`,
        `tls-ca-cert-file ${file('ca.pem')}`,
        'tls-auth-clients no',
        'tls-replication yes',
        'requirepass sentinel-secret',
        `sentinel monitor pnvtls 127.0.0.1 ${master.tlsPort} 1`,
        'sentinel auth-pass pnvtls master-secret',
        'sentinel down-after-milliseconds pnvtls 1000',
        '',
      ].join('\n'),
    )
    sentinel = await startRedis({ configFile: config, dir, args: ['--sentinel', '--port', '0'], ready: '+monitor master' })
  }, 60_000)
  afterAll(async () => {
    await Promise.all([sentinel, master].map((s) => s?.stop()))
  })

  test('sentinels over TLS with their own password, entries written { host, port }; the master over TLS', async () => {
    const saved = []
    const webserverHost = uniqueHost()
    const manager = new VideoViewsManager({
      redis: {
        hostname: null,
        port: null,
        auth: 'master-secret',
        enable_tls: true,
        tls_settings: { ca: file('ca.pem') },
        sentinel: {
          enabled: true,
          enable_tls: true,
          tls_settings: { ca: fs.readFileSync(file('ca.pem'), 'utf8') },
          password: 'sentinel-secret',
          master_name: 'pnvtls',
          sentinels: [{ host: '127.0.0.1', port: sentinelTlsPort }],
        },
        connectTimeout: 3000,
      },
      webserverHost,
      autoStart: false,
      host: {
        saveViewerStats: async (v) => saved.push(v),
        loadVideo: async () => null,
        notifyClients: () => {},
        sendView: async () => {},
        incrementVideoViews: async () => {},
        saveHourlyViews: async () => {},
      },
    })
    engines.push(manager)
    await manager.processLocalView({ video, currentTime: 0, sessionId: 'via-tls-sentinel' })
    await manager.processLocalView({ video, currentTime: 4, sessionId: 'via-tls-sentinel' })
    expect(await manager.syncRedisWrites()).toEqual({ written: 1 })
    const onMaster = tlsInspector(master.tlsPort, { password: 'master-secret' })
    try {
      const stored = await onMaster.get(`redis-${webserverHost}-local-video-viewer-stats-via-tls-sentinel-${video.id}`)
      expect(JSON.parse(stored)).toMatchObject({ watchTime: 4, videoId: 9 })
    } finally {
      onMaster.disconnect()
    }
  })

  test('a wrong sentinel password is REDIS_UNAVAILABLE, nothing lost', async () => {
    const stats = new VideoViewerStats({
      redis: {
        hostname: null,
        port: null,
        auth: 'master-secret',
        enable_tls: true,
        tls_settings: { ca: file('ca.pem') },
        sentinel: {
          enabled: true,
          enable_tls: true,
          tls_settings: { ca: file('ca.pem') },
          password: 'wrong',
          master_name: 'pnvtls',
          sentinels: [{ host: '127.0.0.1', port: sentinelTlsPort }],
        },
        connectTimeout: 2000,
      },
      webserverHost: uniqueHost(),
      autoStart: false,
      saveViewerStats: async () => {},
    })
    engines.push(stats)
    await stats.addLocalViewer({ video, currentTime: 1, sessionId: 'wrong-password' })
    await expect(stats.syncRedisWrites()).rejects.toMatchObject({ code: 'REDIS_UNAVAILABLE' })
    expect(stats.getInternalStats().pendingWrites).toBe(1)
  })
})
