// Loads a TypeScript module of this repository in a test: TypeScript's transpileModule strips the
// types (the type check is adapter-typecheck.spec.js) and the CommonJS output is compiled in
// memory, so the test runs the very source the adapter ships.
const fs = require('node:fs')
const Module = require('node:module')
const path = require('node:path')
const ts = require('typescript')

function loadTs(file) {
  const filename = path.resolve(file)
  const { outputText } = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  })
  const loaded = new Module(filename, module)
  loaded.filename = filename
  loaded.paths = Module._nodeModulePaths(path.dirname(filename))
  loaded._compile(outputText, filename)
  return loaded.exports
}

module.exports = { loadTs }
