/**
 * The benchmark, the demo and the shared support code stand on their own: none of them
 * imports from test/, so they keep working whatever the tests become. Unit tests need no
 * emulator: `npm run test:unit` neither installs nor starts one.
 */
import { expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
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
