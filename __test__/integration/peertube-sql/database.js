// A throw-away PostgreSQL database with PeerTube's view tables, as Sequelize creates them from
// PeerTube's models (quoted camelCase columns): "video" (the columns views use), "localVideoViewer",
// "localVideoViewerWatchSection" and "videoView". Postgres: PGHOST/PGPORT/PGUSER or
// 127.0.0.1:5432, user postgres.
const { Client, Pool } = require('pg')

const connection = {
  host: process.env.PGHOST || '127.0.0.1',
  port: Number(process.env.PGPORT || 5432),
  user: process.env.PGUSER || 'postgres',
  password: process.env.PGPASSWORD,
}

const SCHEMA = `
CREATE TABLE "video" (
  "id" SERIAL PRIMARY KEY,
  "uuid" UUID NOT NULL,
  "name" VARCHAR(255) NOT NULL,
  "duration" INTEGER NOT NULL,
  "views" INTEGER NOT NULL DEFAULT 0,
  "remote" BOOLEAN NOT NULL,
  "isLive" BOOLEAN NOT NULL DEFAULT false,
  "url" VARCHAR(2000) NOT NULL,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(),
  "updatedAt" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX "video_uuid" ON "video" ("uuid");

CREATE TABLE "localVideoViewer" (
  "id" SERIAL PRIMARY KEY,
  "startDate" TIMESTAMP WITH TIME ZONE NOT NULL,
  "endDate" TIMESTAMP WITH TIME ZONE NOT NULL,
  "watchTime" INTEGER NOT NULL,
  "country" VARCHAR(255),
  "subdivisionName" VARCHAR(255),
  "uuid" UUID NOT NULL,
  "url" VARCHAR(255) NOT NULL,
  "videoId" INTEGER NOT NULL REFERENCES "video" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX "local_video_viewer_video_id" ON "localVideoViewer" ("videoId");
CREATE UNIQUE INDEX "local_video_viewer_url" ON "localVideoViewer" ("url");

CREATE TABLE "localVideoViewerWatchSection" (
  "id" SERIAL PRIMARY KEY,
  "watchStart" INTEGER NOT NULL,
  "watchEnd" INTEGER NOT NULL,
  "localVideoViewerId" INTEGER NOT NULL REFERENCES "localVideoViewer" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX "local_video_viewer_watch_section_local_video_viewer_id" ON "localVideoViewerWatchSection" ("localVideoViewerId");

CREATE TABLE "videoView" (
  "id" SERIAL PRIMARY KEY,
  "startDate" TIMESTAMP WITH TIME ZONE NOT NULL,
  "endDate" TIMESTAMP WITH TIME ZONE NOT NULL,
  "views" INTEGER NOT NULL,
  "videoId" INTEGER NOT NULL REFERENCES "video" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "createdAt" TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX "video_view_video_id" ON "videoView" ("videoId");
CREATE INDEX "video_view_start_date" ON "videoView" ("startDate");
`

async function admin(sql) {
  const client = new Client({ ...connection, database: 'postgres' })
  await client.connect().catch((err) => {
    throw new Error(`PostgreSQL is needed at ${connection.host}:${connection.port} (user ${connection.user}): ${err.message}`, { cause: err })
  })
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** Creates a uniquely named database with the schema; `drop()` removes it. */
async function createDatabase() {
  const name = `pt_native_views_${process.pid}_${Date.now()}`
  await admin(`CREATE DATABASE "${name}"`)
  const pool = new Pool({ ...connection, database: name, max: 10 })
  await pool.query(SCHEMA)
  return {
    name,
    pool,
    async drop() {
      await pool.end()
      // pool.end() can resolve while a client's socket is still closing; WITH (FORCE) would then
      // terminate that backend and its client would emit an unhandled FATAL 57P01. Wait for the
      // backends to leave instead, and force only as a last resort.
      for (let attempt = 0; attempt < 100; attempt++) {
        try {
          await admin(`DROP DATABASE IF EXISTS "${name}"`)
          return
        } catch (err) {
          if (err.code !== '55006') throw err // object_in_use: a backend is still connected
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
    },
  }
}

module.exports = { createDatabase }
