#!/usr/bin/env node
/**
 * Writes every action's inputs and outputs tables into README.md, between markers such as
 * <!-- rollout:inputs --> ... <!-- /rollout:inputs -->, from the action.yml files, so the README
 * cannot drift from them. `--check` fails instead when README.md is not up to date
 * (test/unit/docs.test.ts runs the same check).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { format, resolveConfig } from 'prettier'
import { parse } from 'yaml'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const ACTIONS = {
  deploy: 'action.yml',
  'resolve-hosts': 'actions/resolve-hosts/action.yml',
  rollout: 'actions/rollout/action.yml',
  snapshot: 'actions/snapshot/action.yml'
}

const esc = (s) =>
  String(s)
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ')
    .trim()

export function tables(name) {
  const file = join(ROOT, ACTIONS[name])
  if (!existsSync(file)) return undefined
  const action = parse(readFileSync(file, 'utf8'))
  const inputs = Object.entries(action.inputs ?? {}).map(
    ([k, v]) =>
      `| \`${k}\` | ${v.required ? 'yes' : ''} | ${v.default === undefined || v.default === '' ? '' : `\`${esc(v.default)}\``} | ${esc(v.description)} |`
  )
  const outputs = Object.entries(action.outputs ?? {}).map(
    ([k, v]) => `| \`${k}\` | ${esc(v.description)} |`
  )
  return {
    inputs: [
      '| Input | Required | Default | Description |',
      '| --- | --- | --- | --- |',
      ...inputs
    ].join('\n'),
    outputs: ['| Output | Description |', '| --- | --- |', ...outputs].join('\n')
  }
}

/** README.md with every marked table regenerated, formatted as prettier would. */
export async function render(readme) {
  const path = join(ROOT, 'README.md')
  const options = { ...(await resolveConfig(path)), filepath: path }
  return format(renderTables(readme), options)
}

function renderTables(readme) {
  return readme.replace(
    /<!-- ([a-z-]+):(inputs|outputs) -->\n[\s\S]*?<!-- \/\1:\2 -->/g,
    (whole, name, kind) => {
      const t = tables(name)
      return t ? `<!-- ${name}:${kind} -->\n${t[kind]}\n<!-- /${name}:${kind} -->` : whole
    }
  )
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = join(ROOT, 'README.md')
  const current = readFileSync(path, 'utf8')
  const next = await render(current)
  if (process.argv.includes('--check')) {
    if (next !== current) {
      console.error('README.md tables differ from the action.yml files: run npm run docs')
      process.exit(1)
    }
    console.log('README.md tables match the action.yml files.')
  } else {
    writeFileSync(path, next)
    console.log('README.md tables written from the action.yml files.')
  }
}
