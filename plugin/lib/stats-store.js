// The engine's host callbacks in analytics mode. The plugin never touches PeerTube's own
// counters or federation: expired viewers and counted views are added to per-video aggregates
// in the plugin's storage (`storageManager`, key `video-{id}`), and totals are kept for the
// health route. Writes to one key are serialized, so concurrent callbacks never lose an update.
'use strict'

function emptyAggregate() {
  return { viewers: 0, watchTime: 0, views: 0, countries: {}, lastViewerAt: null }
}

function createStatsStore({ storageManager, logger }) {
  const totals = { viewersStored: 0, watchTimeStored: 0, viewsCounted: 0, hourlyViews: 0, storageErrors: 0 }
  const queues = new Map()

  /** Runs `change(aggregate)` on `video-{videoId}` after any earlier change of that key. */
  function update(videoId, change) {
    const key = `video-${videoId}`
    const previous = queues.get(key) || Promise.resolve()
    const next = previous.then(async () => {
      const aggregate = { ...emptyAggregate(), ...((await storageManager.getData(key)) || {}) }
      change(aggregate)
      await storageManager.storeData(key, aggregate)
    })
    const settled = next.catch(() => {})
    queues.set(key, settled)
    settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key)
    })
    return next.catch((err) => {
      totals.storageErrors += 1
      throw err // the engine keeps the viewer (or puts the views back) and retries
    })
  }

  const host = {
    saveViewerStats: async (viewer) => {
      await update(viewer.videoId, (a) => {
        a.viewers += 1
        a.watchTime += viewer.watchTime
        if (viewer.country) a.countries[viewer.country] = (a.countries[viewer.country] || 0) + 1
        a.lastViewerAt = new Date(viewer.lastUpdated).toISOString()
      })
      totals.viewersStored += 1
      totals.watchTimeStored += viewer.watchTime
    },
    incrementVideoViews: async ({ videoId, views }) => {
      await update(videoId, (a) => {
        a.views += views
      })
      totals.viewsCounted += views
    },
    saveHourlyViews: async ({ videoId, views, startDate }) => {
      totals.hourlyViews += views
      logger.debug(`native-views: ${views} views for video ${videoId} in the hour from ${startDate.toISOString()}`, { tags: ['native-views'] })
    },
    // PeerTube notifies its own clients and federates its own views: nothing to do here.
    notifyClients: () => {},
    sendView: async () => {},
  }

  /** The stored aggregate of one video (what an admin page or a script would read). */
  const read = async (videoId) => ({ ...emptyAggregate(), ...((await storageManager.getData(`video-${videoId}`)) || {}) })

  return { host, totals, read }
}

module.exports = { createStatsStore }
