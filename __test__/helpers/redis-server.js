// Starts and stops private redis-server processes on free loopback ports (never 6379).
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/**
 * Starts a redis-server on a free loopback port. Each server gets its own working directory
 * (a replica's full sync writes dump.rdb there, and a server started in a directory holding a
 * dump.rdb loads it), unless `dir` is given to keep data across a restart.
 */
async function startRedis({ port, args = [], configFile, dir, ready = 'Ready to accept connections' } = {}) {
  const chosen = port ?? (await freePort())
  const workDir = dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pnv-redis-'))
  const base = configFile
    ? [configFile, '--port', String(chosen)]
    : ['--port', String(chosen), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', workDir]
  const proc = spawn('redis-server', [...base, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: workDir })
  await new Promise((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10000)
    proc.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes(ready)) {
        clearTimeout(timer)
        resolve()
      }
    })
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`redis-server exited with ${code}: ${out}`))
    })
  })
  return {
    port: chosen,
    proc,
    dir: workDir,
    stop: (signal = 'SIGTERM') =>
      new Promise((resolve) => {
        const cleanup = () => {
          if (!dir) fs.rmSync(workDir, { recursive: true, force: true })
          resolve()
        }
        if (proc.exitCode !== null || proc.signalCode !== null) return cleanup()
        proc.once('exit', cleanup)
        proc.kill(signal)
      }),
  }
}

/**
 * A Redis Sentinel on a free port monitoring `127.0.0.1:masterPort` as `name`. `replicaPorts`
 * are declared up front, so the sentinel need not wait for its first INFO (10 s) to know them.
 */
async function startSentinel({ masterPort, name = 'mymaster', dir, quorum = 1, replicaPorts = [] }) {
  const configFile = path.join(dir, `sentinel-${Date.now()}-${Math.random().toString(16).slice(2)}.conf`)
  fs.writeFileSync(
    configFile,
    [
      'bind 127.0.0.1',
      `sentinel monitor ${name} 127.0.0.1 ${masterPort} ${quorum}`,
      ...replicaPorts.map((port) => `sentinel known-replica ${name} 127.0.0.1 ${port}`),
      `sentinel down-after-milliseconds ${name} 1000`,
      `sentinel failover-timeout ${name} 5000`,
      '',
    ].join('\n'),
  )
  return startRedis({ configFile, dir, args: ['--sentinel'], ready: '+monitor master' })
}

module.exports = { freePort, startRedis, startSentinel }
