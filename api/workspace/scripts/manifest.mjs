// Writes dist/build-manifest.json: the sha256 of the sources this build came from and of every file
// it produced. tests/test_workspace_build.py recomputes both, so a source change without a rebuild
// (or a hand-edited dist/) fails `make test`. No timestamps: the same sources give the same manifest.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const dist = join(root, 'dist')
const MANIFEST = 'build-manifest.json'

function walk(dir) {
  const out = []
  for (const name of readdirSync(dir)) {
    const full = join(dir, name)
    if (statSync(full).isDirectory()) out.push(...walk(full))
    else out.push(full)
  }
  return out
}

const posix = (p) => p.split(sep).join('/')
const byCodePoint = (a, b) => (a < b ? -1 : a > b ? 1 : 0)

// The same list as tests/test_workspace_build.py: SOURCES.
const sources = [
  ...walk(join(root, 'src')),
  ...['index.html', 'package.json', 'package-lock.json', 'vite.config.js'].map((f) => join(root, f)),
].map((f) => posix(relative(root, f))).sort(byCodePoint)

const all = createHash('sha256')
for (const path of sources) {
  all.update(Buffer.from(path, 'utf8'))
  all.update(Buffer.from([0]))
  all.update(readFileSync(join(root, path)))
}

const files = {}
for (const full of walk(dist).map((f) => posix(relative(dist, f))).sort(byCodePoint)) {
  if (full === MANIFEST) continue
  files[full] = createHash('sha256').update(readFileSync(join(dist, full))).digest('hex')
}

const manifest = { sources_sha256: all.digest('hex'), files }
writeFileSync(join(dist, MANIFEST), JSON.stringify(manifest, null, 2) + '\n')
console.log(`build-manifest.json: ${Object.keys(files).length} files, sources ${manifest.sources_sha256}`)
