module.exports = async () => {
  if (globalThis.__REDIS__) await globalThis.__REDIS__.stop()
}
