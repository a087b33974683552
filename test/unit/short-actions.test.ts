/**
 * The root-level folders resolve-hosts/, rollout/ and snapshot/ (so `uses: owner/ebs-autoscale/
 * snapshot@v1` works) are generated from actions/<name>/action.yml: the same action in every
 * field but the bundle paths, which must reach the very same committed bundle.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../../support/emulator/install.mjs'
import {
  plan,
  SHORT_ACTIONS,
  shortActionYml,
  shortPath,
  sourcePath
} from '../../scripts/short-actions.mjs'

type Runs = Record<string, string>
interface ActionYml {
  runs: Runs
  [key: string]: unknown
}
const read = (path: string): ActionYml => parse(readFileSync(join(ROOT, path), 'utf8')) as ActionYml
const STEPS = ['main', 'post', 'pre'] as const

it('has a short folder for every action under actions/', () => {
  const actions = readdirSync(join(ROOT, 'actions')).filter((n) =>
    existsSync(join(ROOT, 'actions', n, 'action.yml'))
  )
  expect([...SHORT_ACTIONS].sort()).toEqual(actions.sort())
})

it('every short action.yml is exactly what the generator writes (npm run docs)', () => {
  expect(
    plan()
      .filter((p) => p.current !== p.expected)
      .map((p) => p.name)
  ).toEqual([])
})

describe.each(SHORT_ACTIONS)('%s/action.yml', (name) => {
  const short = read(shortPath(name))
  const source = read(sourcePath(name))

  it(`equals actions/${name}/action.yml but for the bundle paths`, () => {
    const strip = ({ runs, ...rest }: ActionYml): unknown => ({
      ...rest,
      runs: Object.fromEntries(
        Object.entries(runs).filter(([k]) => !(STEPS as readonly string[]).includes(k))
      )
    })
    expect(strip(short)).toEqual(strip(source))
    expect(Object.keys(short.runs)).toEqual(Object.keys(source.runs))
  })

  it(`runs the same committed bundle as actions/${name}`, () => {
    for (const step of STEPS) {
      const file = source.runs[step]
      if (file === undefined) continue
      const fromSource = resolve(ROOT, dirname(sourcePath(name)), file)
      const fromShort = resolve(ROOT, dirname(shortPath(name)), short.runs[step]!)
      expect([step, fromShort]).toEqual([step, fromSource])
      expect(existsSync(fromShort)).toBe(true)
    }
    expect(short.runs['main']).toBe(`../actions/${name}/dist/index.js`)
  })
})

it('refuses an action.yml whose bundle path it cannot rewrite', () => {
  expect(() => shortActionYml('rollout', "runs:\n  using: 'node24'\n  main: 'index.js'\n")).toThrow(
    "actions/rollout/action.yml: no runs.main 'dist/....js' line to point at the bundle"
  )
})

it('rewrites main and post, and nothing else', () => {
  const out = shortActionYml(
    'rollout',
    "name: 'x'\ndescription: 'dist/index.js'\nruns:\n  using: 'node24'\n  main: 'dist/index.js'\n  post: 'dist/index.js'\n"
  )
  expect(out.split('\n').slice(2)).toEqual([
    "name: 'x'",
    "description: 'dist/index.js'",
    'runs:',
    "  using: 'node24'",
    "  main: '../actions/rollout/dist/index.js'",
    "  post: '../actions/rollout/dist/index.js'",
    ''
  ])
})
