import { expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from '../../support/emulator/install.mjs'
// @ts-expect-error: a plain-JavaScript script, without types
import { ACTIONS, render } from '../../scripts/docs.mjs'

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')

it('README.md documents every input and output of every action.yml, as they are', async () => {
  expect(await render(readme)).toBe(readme)
})

it.each(Object.keys(ACTIONS as Record<string, string>))('README.md has the %s tables', (name) => {
  expect(readme).toContain(`<!-- ${name}:inputs -->`)
  expect(readme).toContain(`<!-- ${name}:outputs -->`)
})
