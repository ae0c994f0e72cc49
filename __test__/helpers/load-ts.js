// Loads a TypeScript module of this repository in a test: TypeScript's transpileModule strips the
// types (the type check is adapter-typecheck.spec.js) and the CommonJS output is compiled in
// memory, so the test runs the very source the adapter ships. `modules` maps import specifiers
// to what they resolve to: an object (a stand-in module) or a path (.ts files are loaded the same
// way, with the same map).
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const ts = require('typescript')

function loadTs(file, modules = {}) {
  const filename = path.resolve(file)
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  })
  const loaded = new Module(filename, module)
  loaded.filename = filename
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
