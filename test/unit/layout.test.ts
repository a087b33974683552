/**
 * The benchmark, the demo and the shared support code stand on their own: none of them
 * imports from test/, so they keep working whatever the tests become. Unit tests need no
 * emulator: `npm run test:unit` neither installs nor starts one.
 */
import { expect, it } from '@jest/globals'
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
// @ts-expect-error: plain JavaScript, without types
import config from '../../jest.config.js'
import { ROOT } from '../../support/emulator/install.mjs'

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f)
    if (statSync(path).isDirectory()) return sources(path)
    return /\.(ts|mts|mjs|js)$/.test(f) ? [path] : []
  })
}

/** Every relative import of `file`, as a path from the repository root. */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) =>
    relative(ROOT, resolve(dirname(file), m[1]!))
  )
}

it.each(['bench', 'demo', 'support'])('%s/ imports nothing from test/', (dir) => {
  const files = sources(join(ROOT, dir))
  expect(files.length).toBeGreaterThan(0)
  const fromTest = files.flatMap((f) =>
    imports(f)
      .filter((i) => i.startsWith('test/'))
      .map((i) => `${relative(ROOT, f)} -> ${i}`)
  )
  expect(fromTest).toEqual([])
})

interface Project {
  displayName: string
  testMatch: string[]
  globalSetup?: string
}
const projects = (config as unknown as { projects: Project[] }).projects

it('the unit project runs test/unit only, with no global setup (nothing installs the emulator)', () => {
  const unit = projects.find((p) => p.displayName === 'unit')!
  expect(unit.testMatch).toEqual(['<rootDir>/test/unit/**/*.test.ts'])
  expect(unit.globalSetup).toBeUndefined()
})

it('every test file belongs to a project', () => {
  const dirs = readdirSync(join(ROOT, 'test'))
    .filter((d) => statSync(join(ROOT, 'test', d)).isDirectory())
    .filter((d) => sources(join(ROOT, 'test', d)).some((f) => f.endsWith('.test.ts')))
  const covered = projects.flatMap((p) => p.testMatch).map((m) => m.split('/')[2])
  expect(dirs.filter((d) => !covered.includes(d))).toEqual([])
})

it('no unit test starts or installs the emulator', () => {
  const starters = /\b(startEmulator|ensureEmulatorInstalled|useEmulator)\b|helpers\/emulator\.js/
  const offenders = sources(join(ROOT, 'test/unit'))
    .filter((f) => f !== fileURLToPath(import.meta.url))
    .filter((f) => starters.test(readFileSync(f, 'utf8')))
  expect(offenders.map((f) => relative(ROOT, f))).toEqual([])
})

/** The first import cycle found among `files` (type-only imports count: they tie the design). */
function findCycle(files: readonly string[]): string[] | undefined {
  const graph = new Map(
    files.map((f) => [relative(ROOT, f), imports(f).map((i) => i.replace(/\.js$/, '.ts'))])
  )
  const state = new Map<string, 'open' | 'done'>()
  const visit = (node: string, path: string[]): string[] | undefined => {
    if (state.get(node) === 'done' || !graph.has(node)) return undefined
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node]
    state.set(node, 'open')
    for (const next of graph.get(node)!) {
      const cycle = visit(next, [...path, node])
      if (cycle) return cycle
    }
    state.set(node, 'done')
    return undefined
  }
  for (const node of graph.keys()) {
    const cycle = visit(node, [])
    if (cycle) return cycle
  }
  return undefined
}

it('src/ has no import cycle', () => {
  expect(findCycle(sources(join(ROOT, 'src')))).toBeUndefined()
})

it('the cycle finder finds one (so the test above can fail)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cycle-'))
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text)
    return join(dir, name)
  }
  const a = write('a.ts', "import type { B } from './b.js'\nexport type A = B\n")
  const b = write('b.ts', "import { c } from './c.js'\nexport type B = string\n")
  const c = write('c.ts', "import type { A } from './a.js'\nexport const c: A = ''\n")
  expect(findCycle([a, b, c])?.map((f) => f.split('/').pop())).toEqual([
    'a.ts',
    'b.ts',
    'c.ts',
    'a.ts'
  ])
  expect(findCycle([a, b])).toBeUndefined()
})
