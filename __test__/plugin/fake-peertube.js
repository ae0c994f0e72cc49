// A fake PeerTube plugin host: what `register()` receives (registerHook, registerSetting,
// settingsManager, storageManager, getRouter, peertubeHelpers), recording everything, with a
// tiny router whose handlers can be called with fake req/res objects. Redis is real.
const { recordingLogger } = require('../helpers/env')

function fakeRouter() {
  const routes = {}
  const add = (method) => (route, handler) => {
    routes[`${method} ${route}`] = handler
  }
  return { routes, get: add('GET'), post: add('POST'), put: add('PUT'), delete: add('DELETE'), use: () => {} }
}

/** Calls a recorded route; resolves to { status, body } once the handler has answered. */
async function call(router, method, route, { body, ip = '127.0.0.1' } = {}) {
  const handler = router.routes[`${method} ${route}`]
  if (!handler) throw new Error(`no route ${method} ${route}`)
  let answered
  const done = new Promise((resolve) => (answered = resolve))
  const res = {
    statusCode: 200,
    status(code) {
      this.statusCode = code
      return this
    },
    json(payload) {
      answered({ status: this.statusCode, body: JSON.parse(JSON.stringify(payload)) })
      return this
    },
    end() {
      answered({ status: this.statusCode, body: undefined })
      return this
    },
    sendStatus(code) {
      this.statusCode = code
      return this.end()
    },
  }
  await handler({ method, body, ip, headers: {} }, res)
  return done
}

/** A video as `peertubeHelpers.videos.loadByIdOrUUID` returns it (the fields the plugin reads). */
function videoModel({ id, uuid, shortUUID, remote = false, duration = 0, isLive = false }) {
  return { id, uuid, shortUUID, remote, duration, isLive, name: `video ${id}` }
}

function fakePeerTube({ webserverHost, settings = {}, videos = [] }) {
  const hooks = []
  const registeredSettings = []
  const settingsListeners = []
  const storage = new Map()
  const router = fakeRouter()
  const { logger, records } = recordingLogger()
  const values = { ...settings }

  const find = (idOrUUID) =>
    videos.find((v) => v.id === Number(idOrUUID) || v.uuid === idOrUUID || (v.shortUUID && v.shortUUID === idOrUUID)) || null

  const options = {
    registerHook: (hook) => hooks.push(hook),
    registerSetting: (setting) => registeredSettings.push(setting),
    settingsManager: {
      getSetting: async (name) => values[name],
      getSettings: async (names) => Object.fromEntries(names.map((n) => [n, values[n]])),
      setSetting: async (name, value) => {
        values[name] = value
      },
      onSettingsChange: (cb) => settingsListeners.push(cb),
    },
    storageManager: {
      getData: async (key) => (storage.has(key) ? JSON.parse(storage.get(key)) : undefined),
      storeData: async (key, data) => {
        storage.set(key, JSON.stringify(data))
      },
    },
    getRouter: () => router,
    peertubeHelpers: {
      logger,
      config: { getWebserverUrl: () => `http://${webserverHost}` },
      videos: { loadByIdOrUUID: async (id) => find(id) },
    },
  }

  /** Changes settings the way PeerTube's admin page does, then tells the listeners. */
  async function changeSettings(changes) {
    Object.assign(values, changes)
    await Promise.all(settingsListeners.map((cb) => cb({ ...values })))
  }

  const hook = (target) => hooks.find((h) => h.target === target)
  return { options, hooks, hook, registeredSettings, storage, router, records, changeSettings, call: (...args) => call(router, ...args) }
}

module.exports = { fakePeerTube, videoModel }
