// The demo's Redis: a private redis-server on a free loopback port (the test helper's), or the
// server of REDIS_URL, whose keys under the demo's prefix are removed at the end.
'use strict'

const { startRedis } = require('../__test__/helpers/redis-server')

async function demoRedis(env = process.env) {
  if (env.REDIS_URL) {
    const url = new URL(env.REDIS_URL)
    const section = { hostname: url.hostname, port: Number(url.port || 6379), auth: url.password || null, db: Number(url.pathname.slice(1) || 0) }
    return { section, label: `${section.hostname}:${section.port} (REDIS_URL)`, cleanup: (prefix) => removeKeys(section, prefix) }
  }
  const server = await startRedis()
  return { section: { hostname: '127.0.0.1', port: server.port }, label: `127.0.0.1:${server.port} (private redis-server)`, cleanup: () => server.stop() }
}

/** Deletes every key under `prefix` (the demo's unique prefix) on a shared server. */
async function removeKeys(section, prefix) {
  const Redis = require('ioredis')
  const client = new Redis({ host: section.hostname, port: section.port, password: section.auth || undefined, db: section.db, maxRetriesPerRequest: 1 })
  try {
    let cursor = '0'
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
      if (keys.length > 0) await client.del(...keys)
      cursor = next
    } while (cursor !== '0')
  } finally {
    client.disconnect()
  }
}

module.exports = { demoRedis }
