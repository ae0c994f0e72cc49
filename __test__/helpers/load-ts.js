// Loads a TypeScript module of this repository in a test: TypeScript's transpileModule strips the
// types (the type check is adapter-typecheck.spec.js) and the CommonJS output is compiled in
// memory, so the test runs the very source the adapter ships. `modules` maps import specifiers
// to what they resolve to: an object (a stand-in module) or a path (.ts files are loaded the same
// way, with the same map). A module is loaded once per map, as Node loads it once per process,
// so two drop-ins that import the same module share its singletons.
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const ts = require('typescript')

const loadedByMap = new WeakMap()

function loadTs(file, modules = {}) {
  const filename = path.resolve(file)
  if (!loadedByMap.has(modules)) loadedByMap.set(modules, new Map())
  const cache = loadedByMap.get(modules)
  if (cache.has(filename)) return cache.get(filename).exports
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  })
  const loaded = new Module(filename, module)
  loaded.filename = filename
  cache.set(filename, loaded)
  loaded.paths = Module._nodeModulePaths(path.dirname(filename))
  loaded.require = (id) => {
    if (!(id in modules)) return Module.prototype.require.call(loaded, id)
    const target = modules[id]
    if (typeof target !== 'string') return target
    return target.endsWith('.ts') ? loadTs(target, modules) : require(target)
  }
  loaded._compile(outputText, filename)
  return loaded.exports
}

module.exports = { loadTs }
