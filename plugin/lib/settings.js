// The plugin's admin settings (PeerTube `registerSetting`) and their translation into
// `VideoViewsManager` options. Every setting is private: none is sent to browsers.
'use strict'

const SETTINGS = [
  { name: 'redis-hostname', label: 'Redis host', type: 'input', default: '127.0.0.1', private: true,
    descriptionHTML: "PeerTube's Redis works: the plugin's keys never collide with PeerTube's (see the key prefix below)." },
  { name: 'redis-port', label: 'Redis port', type: 'input', default: '6379', private: true },
  { name: 'redis-socket', label: 'Redis unix socket (used instead of host and port when set)', type: 'input', default: '', private: true },
  { name: 'redis-auth', label: 'Redis password', type: 'input-password', default: '', private: true },
  { name: 'redis-db', label: 'Redis database number', type: 'input', default: '0', private: true },
  { name: 'geoip-country-database-path', label: 'GeoIP country database (.mmdb path, empty: no country)', type: 'input', default: '', private: true },
  { name: 'geoip-city-database-path', label: 'GeoIP city database (.mmdb path, empty: no region)', type: 'input', default: '', private: true },
  { name: 'viewer-stats-lifetime', label: 'Viewer stats lifetime (inactivity before a viewer is stored)', type: 'input', default: '1 hour', private: true },
  { name: 'viewer-counter-lifetime', label: 'Viewer counter lifetime (how long a viewer counts after its last heartbeat)', type: 'input', default: '2 minutes', private: true },
  { name: 'sync-redis-interval', label: 'Redis write-behind interval', type: 'input', default: '30 seconds', private: true },
  { name: 'takeover', label: "Takeover: run PeerTube's own views and viewers in the native engine", type: 'input-checkbox', default: false, private: true,
    descriptionHTML: "Replaces PeerTube's views subsystem in the running server (view counting, viewers, viewer stats, the views buffer and hourly jobs) with the native engine, on PeerTube's own Redis data. Turning it off, or uninstalling the plugin, gives PeerTube its own code back on the same data. The analytics above keep running either way." },
]

const NAMES = SETTINGS.map((s) => s.name)

/** The settings' values, with defaults for the unset ones. */
async function readSettings(settingsManager) {
  const values = (await settingsManager.getSettings(NAMES)) || {}
  const out = {}
  for (const s of SETTINGS) {
    const v = values[s.name]
    out[s.name] = v === undefined || v === null ? s.default : v
  }
  return out
}

const text = (value) => (value === undefined || value === null ? '' : String(value).trim())

/** An integer setting; a non-integer gives NaN, which the engine rejects by name. */
function integer(value, fallback) {
  const t = text(value)
  if (t === '') return fallback
  return /^\d+$/.test(t) ? Number(t) : Number.NaN
}

/** A duration setting: digits are milliseconds, anything else a PeerTube duration string. */
function duration(value, fallback) {
  const t = text(value)
  if (t === '') return fallback
  return /^\d+$/.test(t) ? Number(t) : t
}

/**
 * `VideoViewsManager` options for these settings. The Redis prefix is
 * `redis-plugin-native-views-{host}-`: PeerTube's own keys are `redis-{host}-…`, so the two
 * never meet even on one Redis database.
 */
function toManagerOptions(values, webserverHost) {
  const socket = text(values['redis-socket'])
  const country = text(values['geoip-country-database-path'])
  const city = text(values['geoip-city-database-path'])
  return {
    redis: {
      hostname: text(values['redis-hostname']) || '127.0.0.1',
      port: integer(values['redis-port'], 6379),
      socket: socket || null,
      auth: text(values['redis-auth']) || null,
      db: integer(values['redis-db'], 0),
    },
    webserverHost: keyPrefixHost(webserverHost),
    geoIp: country || city ? { countryDatabasePath: country || null, cityDatabasePath: city || null } : null,
    viewerStatsLifetime: duration(values['viewer-stats-lifetime'], '1 hour'),
    viewerCounterLifetime: duration(values['viewer-counter-lifetime'], '2 minutes'),
    syncRedisInterval: duration(values['sync-redis-interval'], '30 seconds'),
    // Analytics only: viewers on local videos are never federated one by one (v2 sends totals,
    // and the plugin's sendView does nothing anyway: PeerTube federates its own views).
    viewersFederationV2: true,
  }
}

/** The engine's `webserverHost`, so its Redis prefix is `redis-plugin-native-views-{host}-`. */
function keyPrefixHost(webserverHost) {
  return `plugin-native-views-${webserverHost}`
}

/** The `takeover` checkbox (PeerTube stores checkboxes as booleans, older versions as strings). */
function takeoverWanted(values) {
  const v = values.takeover
  return v === true || v === 'true'
}

module.exports = { SETTINGS, NAMES, readSettings, toManagerOptions, keyPrefixHost, takeoverWanted }
