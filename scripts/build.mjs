#!/usr/bin/env node
/**
 * Bundles every action with ncc into its committed dist/ (index.js, package.json,
 * licenses.txt; no source maps). `--check` builds into a temporary folder instead and fails
 * if any committed bundle differs from a fresh build.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const ENTRIES = [
  {
    name: 'resolve-hosts',
    entry: 'src/actions/resolve-hosts/index.ts',
    out: 'actions/resolve-hosts/dist'
  },
  { name: 'rollout', entry: 'src/actions/rollout/index.ts', out: 'actions/rollout/dist' },
  { name: 'snapshot', entry: 'src/actions/snapshot/index.ts', out: 'actions/snapshot/dist' },
  { name: 'deploy', entry: 'src/actions/deploy/index.ts', out: 'dist' }
].filter((e) => existsSync(e.entry))

const check = process.argv.includes('--check')
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const entries = only.length ? ENTRIES.filter((e) => only.includes(e.name)) : ENTRIES
const scratch = check ? mkdtempSync(join(tmpdir(), 'ebs-autoscale-build-')) : undefined

async function build({ name, entry, out }) {
  const target = scratch ? join(scratch, name) : out
  const started = Date.now()
  await run(
    'npx',
    ['ncc', 'build', entry, '-o', target, '--minify', '--license', 'licenses.txt', '--quiet'],
    {
      maxBuffer: 64 * 1024 * 1024
    }
  )
  console.log(`built ${name} -> ${out} in ${((Date.now() - started) / 1000).toFixed(1)}s`)
  return { name, out, target }
}

/** Two at a time: ncc is CPU-bound and this machine class has two cores. */
async function buildAll() {
  const results = []
  const queue = [...entries]
  await Promise.all(
    [0, 1].map(async () => {
      while (queue.length) results.push(await build(queue.shift()))
    })
  )
  return results
}

const results = await buildAll()
if (check) {
  const stale = []
  for (const { name, out, target } of results) {
    const files = new Set([...readdirSync(target), ...(existsSync(out) ? readdirSync(out) : [])])
    for (const f of files) {
      const fresh = existsSync(join(target, f)) ? readFileSync(join(target, f)) : undefined
      const committed = existsSync(join(out, f)) ? readFileSync(join(out, f)) : undefined
      if (!fresh || !committed || !fresh.equals(committed)) stale.push(`${name}: ${join(out, f)}`)
    }
  }
  rmSync(scratch, { recursive: true, force: true })
  if (stale.length) {
    console.error(
      `Committed bundles differ from a fresh build (run npm run build and commit):\n  ${stale.join('\n  ')}`
    )
    process.exit(1)
  }
  console.log('Committed bundles match a fresh build.')
}
