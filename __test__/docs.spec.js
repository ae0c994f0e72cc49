// Every id the sources cite (B: a behaviour of PeerTube, Q: a quirk, D: a decision) is defined
// in docs/behaviour.md, so a reader never needs a document outside the repository.
const { execFileSync, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')

test('docs/behaviour.md defines every B, Q and D id the sources cite', () => {
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
    .split('\n')
    .filter((f) => /\.(rs|js|mjs|ts|md)$/.test(f) && f !== 'docs/behaviour.md' && !f.startsWith('node_modules/') && fs.existsSync(path.join(root, f)))
  const cited = new Map()
  for (const file of files) {
    const text = fs.readFileSync(path.join(root, file), 'utf8')
    for (const [id] of text.matchAll(/\b[BQD]\d{1,2}\b/g)) if (!cited.has(id)) cited.set(id, file)
  }
  const behaviour = fs.readFileSync(path.join(root, 'docs', 'behaviour.md'), 'utf8')
  const defined = new Set([...behaviour.matchAll(/^- \*\*([BQD]\d{1,2})\./gm)].map((m) => m[1]))
  const undefinedIds = [...cited].filter(([id]) => !defined.has(id)).map(([id, file]) => `${id} (${file})`)
  expect(undefinedIds).toEqual([])
  expect(cited.size).toBeGreaterThan(30)
})

test('no file points at a document outside the repository', () => {
  const grep = spawnSync('git', ['grep', '-l', '-e', 'shared/spec', '--', '.', ':(exclude)__test__/docs.spec.js'], { cwd: root, encoding: 'utf8' })
  expect(grep.stdout.trim()).toBe('')
  expect(grep.status).toBe(1) // git grep: 1 = no match
})
