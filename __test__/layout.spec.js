// The layout rules of docs/ARCHITECTURE.md, checked: the core crate has no napi dependency, no
// source file is over 600 lines (generated files aside), and no two Rust modules import each
// other, directly or through others.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const GENERATED = new Set(['binding.js', 'binding.d.ts', 'crates/node/src/binding/header.d.ts', 'package-lock.json'])

test("the core crate's Cargo.toml has no napi dependency", () => {
  const manifest = fs.readFileSync(path.join(root, 'crates/core/Cargo.toml'), 'utf8')
  expect(manifest).not.toMatch(/^napi/m)
  expect(fs.readFileSync(path.join(root, 'crates/node/Cargo.toml'), 'utf8')).toMatch(/^napi = /m)
})

test('no source file is over 600 lines', () => {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(rs|js|mjs|ts)$/.test(f) && !GENERATED.has(f) && fs.existsSync(path.join(root, f)))
  const long = files
    .map((f) => [f, fs.readFileSync(path.join(root, f), 'utf8').split('\n').length - 1])
    .filter(([, lines]) => lines > 600)
  expect(long).toEqual([])
})

/** `module name -> source` of a crate (`a::b` for src/a/b.rs or src/a/b/mod.rs). */
function modules(src) {
  const out = new Map()
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (entry.name.endsWith('.rs')) {
        const parts = path.relative(src, file).slice(0, -3).split(path.sep)
        if (['mod', 'lib'].includes(parts[parts.length - 1])) parts.pop()
        out.set(parts.join('::') || 'crate', fs.readFileSync(file, 'utf8'))
      }
    }
  }
  walk(src)
  return out
}

/** The modules `name` refers to through `crate::`, `super::` or `self::` paths (tests aside). */
function dependencies(name, source, all) {
  const base = name === 'crate' ? [] : name.split('::')
  const code = source.replace(/#\[cfg\(test\)\]\s*mod tests \{[\s\S]*/, '')
  const deps = new Set()
  for (const [, pathText] of code.matchAll(/\b((?:crate|super|self)(?:::\w+)+)/g)) {
    let segs = pathText.split('::')
    let full
    if (segs[0] === 'crate') full = segs.slice(1)
    else if (segs[0] === 'self') full = [...base, ...segs.slice(1)]
    else {
      let b = base.slice()
      while (segs[0] === 'super') {
        b = b.slice(0, -1)
        segs = segs.slice(1)
      }
      full = [...b, ...segs]
    }
    for (let k = full.length; k > 0; k--) {
      const target = full.slice(0, k).join('::')
      if (all.has(target)) {
        const related = target === name || name.startsWith(`${target}::`) || target.startsWith(`${name}::`)
        if (!related) deps.add(target)
        break
      }
    }
  }
  return deps
}

test.each(['crates/core/src', 'crates/node/src'])('no import cycle between the modules of %s', (src) => {
  const all = modules(path.join(root, src))
  const edges = new Map([...all].map(([name, source]) => [name, dependencies(name, source, all)]))
  const cycles = []
  const visit = (name, stack) => {
    for (const dep of edges.get(name) ?? []) {
      if (stack.includes(dep)) cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' -> '))
      else if (stack.length < all.size) visit(dep, [...stack, dep])
    }
  }
  for (const name of all.keys()) visit(name, [name])
  expect([...new Set(cycles)]).toEqual([])
})
