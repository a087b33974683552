#!/usr/bin/env node
/**
 * Writes the root-level action folders `resolve-hosts/`, `rollout/` and `snapshot/` from
 * `actions/<name>/action.yml`, so `uses: <owner>/ebs-autoscale/snapshot@v1` works as well as
 * `.../actions/snapshot@v1`. Each copy is the same file but for a header and the bundle paths
 * (`main`, `post`, `pre`), which point at the one committed bundle in `actions/<name>/dist/`.
 * `--check` fails instead when a copy differs from what this script would write
 * (test/unit/short-actions.test.ts runs the same check).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const SHORT_ACTIONS = ['resolve-hosts', 'rollout', 'snapshot']

/** The runs keys that name a file relative to the action.yml. */
const STEP_LINE = /^( {2}(?:main|post|pre): )'(dist\/[\w.-]+\.js)'$/gm

export const sourcePath = (name) => `actions/${name}/action.yml`
export const shortPath = (name) => `${name}/action.yml`

/** The short folder's action.yml, made from the text of `actions/<name>/action.yml`. */
export function shortActionYml(name, source) {
  let rewritten = 0
  const body = source.replace(STEP_LINE, (_line, key, file) => {
    rewritten++
    return `${key}'../actions/${name}/${file}'`
  })
  if (rewritten === 0) {
    throw new Error(`${sourcePath(name)}: no runs.main 'dist/....js' line to point at the bundle`)
  }
  return [
    `# Generated from ${sourcePath(name)} by scripts/short-actions.mjs (npm run docs): edit that`,
    `# file, not this one. It lets workflows write uses: <owner>/ebs-autoscale/${name}@v1.`,
    body
  ].join('\n')
}

/** [name, path, expected text, current text or undefined] for every short folder. */
export function plan() {
  return SHORT_ACTIONS.map((name) => {
    const expected = shortActionYml(name, readFileSync(join(ROOT, sourcePath(name)), 'utf8'))
    const file = join(ROOT, shortPath(name))
    return { name, file, expected, current: existsSync(file) ? readFileSync(file, 'utf8') : '' }
  })
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const stale = plan().filter((p) => p.current !== p.expected)
  if (process.argv.includes('--check')) {
    if (stale.length) {
      console.error(
        `Short action folders differ from actions/*/action.yml (run npm run docs): ${stale.map((s) => shortPath(s.name)).join(', ')}`
      )
      process.exit(1)
    }
    console.log('Short action folders match actions/*/action.yml.')
  } else {
    for (const { file, expected } of stale) {
      mkdirSync(dirname(file), { recursive: true })
      writeFileSync(file, expected)
    }
    console.log(`Short action folders written: ${SHORT_ACTIONS.map(shortPath).join(', ')}`)
  }
}
