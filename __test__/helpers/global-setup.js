// One private redis-server for the whole jest run (or REDIS_URL if given).
const { startRedis } = require('./redis-server')

module.exports = async () => {
  if (process.env.REDIS_URL) return
  const redis = await startRedis()
  globalThis.__REDIS__ = redis
  process.env.REDIS_URL = `redis://127.0.0.1:${redis.port}`
}
