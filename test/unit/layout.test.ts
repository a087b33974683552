/**
 * The benchmark, the demo and the shared support code stand on their own: none of them
 * imports from test/, so they keep working whatever the tests become.
 */
import { expect, it } from '@jest/globals'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
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
