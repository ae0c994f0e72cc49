// The ports of integration/peertube/native-host.ts on `pg`, doing in SQL what PeerTube's models
// do (native-ports.ts): managed transactions with after-commit hooks (Sequelize's `afterCommit`,
// which PeerTube's ActivityPub senders use to queue their jobs), the model inserts, and recorders
// for the senders. `faults.createWatchSections(input)` returning true makes that call throw after
// its first INSERT, in the middle of the viewer's transaction.
const WEBSERVER_URL = 'http://peertube.test:9000'

function videoFromRow(row) {
  return { id: row.id, uuid: row.uuid, url: row.url, name: row.name, remote: row.remote, isLive: row.isLive, duration: row.duration, views: row.views }
}

function pgPorts(pool) {
  const sent = { watchActions: [], views: [], federatedVideos: [], notified: [] }
  const faults = { createWatchSections: () => false }
  const transactions = { committed: 0, rolledBack: 0 }

  const ports = {
    async transaction(work) {
      const client = await pool.connect()
      const t = { client, afterCommit: [] }
      try {
        await client.query('BEGIN')
        const result = await work(t)
        await client.query('COMMIT')
        transactions.committed += 1
        for (const hook of t.afterCommit) hook()
        return result
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {})
        transactions.rolledBack += 1
        throw err
      } finally {
        client.release()
      }
    },

    async loadVideo(id, t) {
      const { rows } = await t.client.query('SELECT * FROM "video" WHERE "id" = $1', [id])
      return rows.length ? videoFromRow(rows[0]) : null
    },

    async createLocalViewer(row, t) {
      const { rows } = await t.client.query(
        'INSERT INTO "localVideoViewer" ("startDate", "endDate", "watchTime", "country", "subdivisionName", "uuid", "url", "videoId", "createdAt") ' +
          'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) RETURNING *',
        [row.startDate, row.endDate, row.watchTime, row.country, row.subdivisionName, row.uuid, row.url, row.videoId],
      )
      return rows[0]
    },

    // LocalVideoViewerWatchSectionModel.bulkCreateSections: one INSERT per section, in order.
    async createWatchSections(input, t) {
      const fail = faults.createWatchSections(input)
      const sections = []
      for (const section of input.watchSections) {
        const { rows } = await t.client.query(
          'INSERT INTO "localVideoViewerWatchSection" ("watchStart", "watchEnd", "localVideoViewerId", "createdAt") VALUES ($1, $2, $3, now()) RETURNING *',
          [section.start || 0, section.end || 0, input.localVideoViewerId],
        )
        sections.push(rows[0])
        if (fail) throw new Error('injected failure after the first watch section')
      }
      return sections
    },

    // sendCreateWatchAction: the activity (LocalVideoViewerModel.toActivityPubObject) is queued
    // after the commit.
    async sendCreateWatchAction({ viewer, video, sections }, t) {
      const object = {
        id: viewer.url,
        type: 'WatchAction',
        duration: 'PT' + viewer.watchTime + 'S',
        startTime: viewer.startDate.toISOString(),
        endTime: viewer.endDate.toISOString(),
        object: video.url,
        uuid: viewer.uuid,
        actionStatus: 'CompletedActionStatus',
        watchSections: sections.map((s) => ({ startTimestamp: s.watchStart, endTimestamp: s.watchEnd })),
        ...(viewer.country ? { location: { addressCountry: viewer.country, addressRegion: viewer.subdivisionName } } : {}),
      }
      t.afterCommit.push(() => sent.watchActions.push(object))
    },

    localViewerUrl: (uuid) => WEBSERVER_URL + '/videos/local-viewer/' + uuid,

    async loadImmutableVideo(id) {
      const { rows } = await pool.query('SELECT "id", "uuid", "url", "remote" FROM "video" WHERE "id" = $1', [id])
      return rows.length ? rows[0] : null
    },

    notifyClients: (video, totalViewers) => sent.notified.push({ videoId: video.id, totalViewers }),

    async sendView({ video, viewersCount, viewerIdentifier }) {
      sent.views.push({ videoUrl: video.url, viewersCount, viewerIdentifier })
    },

    async loadFullVideo(id) {
      const { rows } = await pool.query('SELECT * FROM "video" WHERE "id" = $1', [id])
      return rows.length ? videoFromRow(rows[0]) : null
    },

    // VideoModel.incrementViews: Sequelize's increment('views', { by, where: { id } }).
    incrementViews: (videoId, views) =>
      pool.query('UPDATE "video" SET "views" = "views" + $2, "updatedAt" = now() WHERE "id" = $1', [videoId, views]),

    async federateVideo(video) {
      sent.federatedVideos.push({ id: video.id, views: video.views })
    },

    createHourlyViews: (row) =>
      pool.query('INSERT INTO "videoView" ("startDate", "endDate", "views", "videoId", "createdAt") VALUES ($1, $2, $3, $4, now())', [
        row.startDate,
        row.endDate,
        row.views,
        row.videoId,
      ]),
  }

  return { ports, sent, faults, transactions }
}

module.exports = { pgPorts, WEBSERVER_URL }
