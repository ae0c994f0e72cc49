// Every bad input is rejected with a TypeError/RangeError carrying code INVALID_ARGUMENT and a
// message naming the field, and changes nothing (checked in Redis after a sync).
const { VideoViewerStats } = require('../index.js')
const { redisSection, inspector, uniqueHost } = require('./helpers/env')

let redis
beforeAll(() => {
  redis = inspector()
})
afterAll(async () => {
  await redis.quit()
})

function engine(extra = {}) {
  const host = uniqueHost()
  const stats = new VideoViewerStats({
    redis: redisSection(),
    webserverHost: host,
    autoStart: false,
    saveViewerStats: async () => {},
    ...extra,
  })
  return { stats, prefix: `redis-${host}-` }
}

const good = { video: { id: 1, uuid: 'u' }, currentTime: 5, ip: '1.2.3.4', sessionId: 'abc-123' }
const with_ = (patch) => ({ ...good, ...patch })

const badHeartbeats = [
  ['not an object', 42, TypeError, /^input must be an object/],
  ['null input', null, TypeError, /^input must be an object/],
  ['array input', [good], TypeError, /^input must be an object/],
  ['missing video', with_({ video: undefined }), TypeError, /^video must be an object/],
  ['video id missing', with_({ video: { uuid: 'u' } }), TypeError, /^video\.id must be a number/],
  ['video id as string', with_({ video: { id: '1' } }), TypeError, /^video\.id must be a number/],
  ['video id not integer', with_({ video: { id: 1.5 } }), RangeError, /^video\.id must be a positive integer/],
  ['video id zero', with_({ video: { id: 0 } }), RangeError, /^video\.id/],
  ['video id negative', with_({ video: { id: -3 } }), RangeError, /^video\.id/],
  ['video id NaN', with_({ video: { id: NaN } }), RangeError, /^video\.id/],
  ['video id huge', with_({ video: { id: 2 ** 60 } }), RangeError, /^video\.id/],
  ['video id BigInt', with_({ video: { id: 1n } }), TypeError, /^video\.id must be a number/],
  ['currentTime missing', with_({ currentTime: undefined }), TypeError, /^currentTime must be a number/],
  ['currentTime string', with_({ currentTime: '5' }), TypeError, /^currentTime must be a number/],
  ['currentTime NaN', with_({ currentTime: NaN }), RangeError, /^currentTime must be finite/],
  ['currentTime Infinity', with_({ currentTime: Infinity }), RangeError, /^currentTime must be finite/],
  ['currentTime -Infinity', with_({ currentTime: -Infinity }), RangeError, /^currentTime must be finite/],
  ['currentTime negative', with_({ currentTime: -1 }), RangeError, /^currentTime must be >= 0/],
  ['currentTime fractional', with_({ currentTime: 5.5 }), RangeError, /^currentTime must be an integer/],
  ['currentTime huge', with_({ currentTime: 1e20 }), RangeError, /^currentTime must be <=/],
  ['sessionId missing', with_({ sessionId: undefined }), TypeError, /^sessionId must be a string/],
  ['sessionId number', with_({ sessionId: 12 }), TypeError, /^sessionId must be a string/],
  ['sessionId object', with_({ sessionId: { toString: () => 'x' } }), TypeError, /^sessionId must be a string/],
  ['sessionId empty', with_({ sessionId: '' }), RangeError, /^sessionId must not be empty/],
  ['sessionId too long', with_({ sessionId: 'a'.repeat(257) }), RangeError, /^sessionId must be at most 256/],
  ['sessionId too long in UTF-8', with_({ sessionId: 'é'.repeat(129) }), RangeError, /^sessionId must be at most 256/],
  ['sessionId megabytes', with_({ sessionId: 'a'.repeat(5_000_000) }), RangeError, /^sessionId must be at most 256/],
  ['viewEvent unknown', with_({ viewEvent: 'play' }), RangeError, /^viewEvent must be 'seek' or absent/],
  ['viewEvent empty', with_({ viewEvent: '' }), RangeError, /^viewEvent must be 'seek' or absent/],
  ['viewEvent number', with_({ viewEvent: 1 }), TypeError, /^viewEvent must be a string/],
  ['ip number', with_({ ip: 1234 }), TypeError, /^ip must be a string/],
  [
    'throwing getter',
    Object.defineProperty({ ...good }, 'currentTime', {
      get() {
        throw new Error('boom')
      },
    }),
    TypeError,
    /^currentTime must be readable/,
  ],
]

describe('addLocalViewer rejects bad input and changes nothing', () => {
  const { stats, prefix } = engine()
  afterAll(() => stats.close())

  test.each(badHeartbeats)('%s', async (_name, input, ErrorClass, message) => {
    const promise = stats.addLocalViewer(input)
    expect(Object.prototype.toString.call(promise)).toBe('[object Promise]')
    const err = await promise.then(
      () => null,
      (e) => e,
    )
    expect(err).not.toBeNull()
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.name).toBe(ErrorClass.name)
    expect(err.message).toMatch(message)
  })

  test('after all of them, Redis holds nothing and the engine is still healthy', async () => {
    expect(await stats.syncRedisWrites()).toEqual({ written: 0 })
    expect(await redis.keys(`${prefix}*`)).toEqual([])
    expect(stats.getInternalStats()).toMatchObject({ cachedViewers: 0, pendingWrites: 0 })
    await stats.addLocalViewer(good)
    expect(await stats.syncRedisWrites()).toEqual({ written: 1 })
    expect(await redis.keys(`${prefix}*`)).toHaveLength(2)
  })
})

describe('getWatchTime validates its arguments', () => {
  const { stats } = engine()
  afterAll(() => stats.close())

  test.each([
    ['videoId string', ['1', 'abc'], TypeError, /^videoId must be a number/],
    ['videoId fractional', [1.2, 'abc'], RangeError, /^videoId must be a positive integer/],
    ['sessionId too long', [1, 'a'.repeat(257)], RangeError, /^sessionId must be at most 256/],
    ['sessionId missing', [1], TypeError, /^sessionId must be a string/],
  ])('%s', async (_name, args, ErrorClass, message) => {
    const err = await stats.getWatchTime(...args).catch((e) => e)
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.name).toBe(ErrorClass.name)
    expect(err.message).toMatch(message)
  })
})

describe('the constructor validates its options', () => {
  const base = () => ({ redis: redisSection(), webserverHost: 'h', autoStart: false, saveViewerStats: async () => {} })
  test.each([
    ['no options', undefined, TypeError, /^options must be an object/],
    ['webserverHost missing', { webserverHost: undefined }, TypeError, /^webserverHost must be a non-empty string/],
    ['webserverHost empty', { webserverHost: '' }, RangeError, /^webserverHost must not be empty/],
    ['saveViewerStats missing', { saveViewerStats: undefined }, TypeError, /^saveViewerStats must be a function/],
    ['saveViewerStats not a function', { saveViewerStats: 'x' }, TypeError, /^saveViewerStats must be a function/],
    ['unknown duration unit', { viewerStatsLifetime: '3 fortnights' }, RangeError, /^viewerStatsLifetime .*unknown duration unit/],
    ['zero duration', { syncRedisInterval: 0 }, RangeError, /^syncRedisInterval must be a positive duration/],
    ['negative duration', { syncRedisInterval: -5 }, RangeError, /^syncRedisInterval must be a positive duration/],
    ['duration of wrong type', { viewerStatsLifetime: true }, TypeError, /^viewerStatsLifetime must be a number of ms or a duration string/],
    ['maxWatchSections zero', { maxWatchSections: 0 }, RangeError, /^maxWatchSections must be an integer/],
    ['autoStart not boolean', { autoStart: 'yes' }, TypeError, /^autoStart must be a boolean/],
    ['redis not an object', { redis: 'redis://x' }, TypeError, /^redis must be an object/],
    ['redis port out of range', { redis: { hostname: 'h', port: 70000 } }, RangeError, /^redis\.port must be a port number/],
    ['redis without address', { redis: { hostname: '', port: null } }, RangeError, /^redis needs either socket/],
    ['sentinel without sentinels', { redis: { sentinel: { enabled: true, master_name: 'm', sentinels: [] } } }, RangeError, /^redis\.sentinel\.sentinels must list/],
    ['sentinel TLS with a cert but no key', { redis: { sentinel: { enabled: true, enable_tls: true, tls_settings: { cert: '-----BEGIN CERTIFICATE-----' }, master_name: 'm', sentinels: [{ hostname: 'h', port: 1 }] } } }, RangeError, /^redis\.sentinel\.tls_settings needs both cert and key/],
    ['geoIp not an object', { geoIp: 'path.mmdb' }, TypeError, /^geoIp must be an object/],
    ['logger method not a function', { logger: { warn: 'no' } }, TypeError, /^logger\.warn must be a function/],
  ])('%s', (_name, patch, ErrorClass, message) => {
    const options = patch === undefined ? undefined : { ...base(), ...patch }
    let err
    try {
      new VideoViewerStats(options)
    } catch (e) {
      err = e
    }
    expect(err).toBeDefined()
    expect(err.code).toBe('INVALID_ARGUMENT')
    expect(err.name).toBe(ErrorClass.name)
    expect(err.message).toMatch(message)
  })

  test('accepts PeerTube duration strings and its redis section shapes', async () => {
    const engines = [
      new VideoViewerStats({ ...base(), viewerStatsLifetime: '1 hour', syncRedisInterval: '30 seconds' }),
      new VideoViewerStats({ ...base(), redis: { ...redisSection(), socket: null, sentinel: { enabled: false } } }),
      new VideoViewerStats({
        ...base(),
        redis: { sentinel: { enabled: true, master_name: 'mymaster', sentinels: [{ hostname: '127.0.0.1', port: 26379 }] } },
      }),
    ]
    await Promise.all(engines.map((e) => e.close().catch(() => {})))
  })
})
