// GeoIP with the deterministic fixtures in __test__/fixtures (see its README): country from
// the country database, the last subdivision from the city database, nulls on any failure.
const path = require('node:path')
const { VideoViewerStats } = require('../index.js')
const { redisSection, inspector, uniqueHost, recordingLogger, waitFor } = require('./helpers/env')

const fixtures = path.join(__dirname, 'fixtures')
const countryDatabasePath = path.join(fixtures, 'geo-country-test.mmdb')
const cityDatabasePath = path.join(fixtures, 'geo-city-test.mmdb')

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

async function locate(geoIp, ips, extra = {}) {
  const host = uniqueHost()
  const stats = new VideoViewerStats({
    redis: redisSection(),
    webserverHost: host,
    autoStart: false,
    geoIp,
    saveViewerStats: async () => {},
    ...extra,
  })
  const out = {}
  for (const [i, ip] of ips.entries()) {
    await stats.addLocalViewer({ video: { id: 3 }, currentTime: 0, ip, sessionId: `viewer-${i}` })
  }
  await stats.close()
  for (const [i, ip] of ips.entries()) {
    const { country, subdivisionName } = JSON.parse(await redis.get(`redis-${host}-local-video-viewer-stats-viewer-${i}-3`))
    out[ip] = [country, subdivisionName]
  }
  return out
}

test('country from the country DB, English name of the last subdivision from the city DB', async () => {
  expect(
    await locate({ countryDatabasePath, cityDatabasePath }, [
      '81.2.69.160',
      '192.0.2.1',
      '198.51.100.7',
      '203.0.113.9',
      '2001:db8::1',
      '::ffff:81.2.69.160',
      '100.64.0.5',
      '100.64.1.5',
      '8.8.8.8',
    ]),
  ).toEqual({
    '81.2.69.160': ['GB', 'England'],
    '192.0.2.1': ['US', 'California'],
    '198.51.100.7': ['JP', null],
    '203.0.113.9': ['ES', 'Barcelona'],
    '2001:db8::1': ['FR', 'Brittany'],
    '::ffff:81.2.69.160': ['GB', 'England'],
    '100.64.0.5': [null, 'Bavaria'],
    '100.64.1.5': ['BE', null],
    '8.8.8.8': [null, null],
  })
})

test('GeoIP is looked up once, with the IP of the first heartbeat', async () => {
  const host = uniqueHost()
  const stats = new VideoViewerStats({ redis: redisSection(), webserverHost: host, autoStart: false, geoIp: { countryDatabasePath, cityDatabasePath }, saveViewerStats: async () => {} })
  await stats.addLocalViewer({ video: { id: 3 }, currentTime: 0, ip: '81.2.69.160', sessionId: 'mover' })
  await stats.addLocalViewer({ video: { id: 3 }, currentTime: 5, ip: '192.0.2.1', sessionId: 'mover' })
  await stats.close()
  const json = JSON.parse(await redis.get(`redis-${host}-local-video-viewer-stats-mover-3`))
  expect([json.country, json.subdivisionName]).toEqual(['GB', 'England'])
})

test('disabled GeoIP gives nulls', async () => {
  expect(await locate(null, ['81.2.69.160'])).toEqual({ '81.2.69.160': [null, null] })
})

test('an empty city database path gives countries without subdivisions', async () => {
  expect(await locate({ countryDatabasePath, cityDatabasePath: '' }, ['81.2.69.160'])).toEqual({ '81.2.69.160': ['GB', null] })
})

test('missing or corrupt databases and bad IPs give nulls and warnings, never an error', async () => {
  const { logger, records } = recordingLogger()
  const result = await locate(
    { countryDatabasePath: path.join(fixtures, 'does-not-exist.mmdb'), cityDatabasePath: path.join(fixtures, 'geo-corrupt.mmdb') },
    ['81.2.69.160', 'not-an-ip', ''],
    { logger },
  )
  expect(result).toEqual({ '81.2.69.160': [null, null], 'not-an-ip': [null, null], '': [null, null] })
  await waitFor(() => records.filter((r) => r.level === 'warn').length >= 3)
  const messages = records.filter((r) => r.level === 'warn').map((r) => r.message)
  expect(messages).toEqual(
    expect.arrayContaining([
      'GeoIP country database not found, country lookups give null until it appears.',
      'Cannot open GeoIP city database, city lookups give null until it can be read.',
      'Cannot parse IP for GeoIP lookup.',
    ]),
  )
})

test('a bad IP with working databases gives nulls and a warning', async () => {
  const { logger, records } = recordingLogger()
  expect(await locate({ countryDatabasePath, cityDatabasePath }, ['999.1.1.1'], { logger })).toEqual({ '999.1.1.1': [null, null] })
  await waitFor(() => records.some((r) => r.message === 'Cannot parse IP for GeoIP lookup.'))
})

describe('databases PeerTube downloads after start are picked up without a restart', () => {
  const fs = require('node:fs')
  const os = require('node:os')
  const { VideoViewsManager } = require('../index.js')

  function managerOn(dir, extra = {}) {
    const host = uniqueHost()
    const manager = new VideoViewsManager({
      redis: redisSection(),
      webserverHost: host,
      geoIp: { countryDatabasePath: path.join(dir, 'country.mmdb'), cityDatabasePath: path.join(dir, 'city.mmdb') },
      ...extra,
      host: { saveViewerStats: async () => {}, loadVideo: async () => null, notifyClients: () => {}, sendView: async () => {}, incrementVideoViews: async () => {}, saveHourlyViews: async () => {} },
    })
    const located = async (sessionId) => {
      await manager.syncRedisWrites()
      const { country, subdivisionName } = JSON.parse(await redis.get(`redis-${host}-local-video-viewer-stats-${sessionId}-3`))
      return [country, subdivisionName]
    }
    const view = (sessionId) => manager.processLocalView({ video: { id: 3, uuid: 'u3', isLive: true }, currentTime: 0, ip: '81.2.69.160', sessionId })
    return { manager, located, view }
  }

  test('reloadGeoIp() opens files that appeared, and keeps the open database when a new file is unreadable', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geoip-'))
    const { manager, located, view } = managerOn(dir, { autoStart: false })
    await view('before')
    expect(await located('before')).toEqual([null, null])
    expect(await manager.reloadGeoIp()).toEqual({ country: false, city: false, reloaded: 0 })

    fs.copyFileSync(countryDatabasePath, path.join(dir, 'country.mmdb'))
    fs.copyFileSync(cityDatabasePath, path.join(dir, 'city.mmdb'))
    expect(await manager.reloadGeoIp()).toEqual({ country: true, city: true, reloaded: 2 })
    await view('after')
    expect(await located('after')).toEqual(['GB', 'England'])
    // A viewer located once keeps its location (GeoIP runs when its stats object is created).
    expect(await located('before')).toEqual([null, null])

    fs.copyFileSync(path.join(fixtures, 'geo-corrupt.mmdb'), path.join(dir, 'city.mmdb'))
    expect(await manager.reloadGeoIp()).toEqual({ country: true, city: true, reloaded: 0 })
    await view('corrupt-replacement')
    expect(await located('corrupt-replacement')).toEqual(['GB', 'England'])
    await manager.close()
    fs.rmSync(dir, { recursive: true })
  })

  test('with autoStart the files are checked every geoIpCheckInterval', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geoip-'))
    const { manager, located, view } = managerOn(dir, { geoIpCheckInterval: 50, syncRedisInterval: '1 hour', viewerStatsLifetime: '1 hour' })
    await view('probe-before')
    expect(await located('probe-before')).toEqual([null, null])
    fs.copyFileSync(countryDatabasePath, path.join(dir, 'country.mmdb'))
    let n = 0
    await waitFor(
      async () => {
        const id = `probe-${n++}`
        await view(id)
        return (await located(id))[0] === 'GB'
      },
      { timeout: 5000 },
    )
    await manager.close()
    fs.rmSync(dir, { recursive: true })
  })
})
