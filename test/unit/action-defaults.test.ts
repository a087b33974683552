/**
 * The default each action.yml states for an input is the default its code uses. The runner
 * passes the action.yml default when an input is unset, but the code's own fallback is what
 * runs when the input is set to '' (and under @github/local-action): two defaults that
 * disagree make the README lie in one of those cases.
 *
 * Each adapter's run() is run with every input empty (but what it cannot start without), and
 * every Inputs read that carries a fallback is recorded; the run stops at the first AWS client,
 * since no region is set, after every input was read.
 */
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { ROOT } from '../../support/emulator/install.mjs'

interface ActionYml {
  inputs?: Record<string, { required?: boolean; default?: string }>
}

/** What an adapter needs beyond empty inputs to get to the end of its reading. */
const ACTIONS: Record<string, { yml: string; given: Record<string, string> }> = {
  'resolve-hosts': { yml: 'actions/resolve-hosts/action.yml', given: { tags: 'Role=app' } },
  rollout: {
    yml: 'actions/rollout/action.yml',
    given: { 'instance-ids': 'i-0123456789abcdef0', commands: './deploy' }
  },
  snapshot: { yml: 'actions/snapshot/action.yml', given: { 'instance-id': 'i-0123456789abcdef0' } },
  deploy: { yml: 'action.yml', given: { tags: 'Role=app', commands: './deploy' } }
}

/**
 * Defaults computed from the run, which action.yml can only describe (its default is ''):
 * input -> the fallback the code passes for the repository acme/shop.
 */
const COMPUTED: Record<string, string> = { name: 'shop' }

/** The Inputs methods that take a fallback, and the position of that argument. */
const FALLBACK_ARG: Record<string, number> = {
  string: 1,
  boolean: 1,
  integer: 1,
  duration: 1,
  countOrPercent: 1,
  states: 1,
  oneOf: 2
}

let values: Record<string, string> = {}
const setFailed = jest.fn<(message: string) => void>()
const real = await import('@actions/core')
jest.unstable_mockModule('@actions/core', () => ({
  ...real,
  getInput: (name: string) => values[name] ?? '',
  setFailed,
  saveState: () => undefined,
  info: () => undefined,
  warning: () => undefined,
  debug: () => undefined,
  setOutput: () => undefined
}))
const { Inputs } = await import('../../src/actions/shared/inputs.js')

/** input -> every fallback the code passed when reading it. */
const reads = new Map<string, string[]>()
const originals = new Map<string, unknown>()
const proto = Inputs.prototype as unknown as Record<string, (...args: unknown[]) => unknown>

const saved = { ...process.env }
beforeAll(() => {
  for (const k of ['AWS_REGION', 'AWS_DEFAULT_REGION']) delete process.env[k]
  process.env['GITHUB_REPOSITORY'] = 'acme/shop'
  for (const [method, at] of Object.entries(FALLBACK_ARG)) {
    const original = proto[method]!
    originals.set(method, original)
    proto[method] = function (this: InstanceType<typeof Inputs>, ...args: unknown[]) {
      const name = this.nameOf(args[0] as string)
      reads.set(name, [...(reads.get(name) ?? []), String(args[at] ?? '')])
      return original.apply(this, args)
    }
  }
})
afterAll(() => {
  for (const [method, original] of originals) proto[method] = original as never
  process.env = saved
})

async function readAll(action: string): Promise<{ read: Map<string, string[]>; failed: string[] }> {
  const { yml, given } = ACTIONS[action]!
  const declared = (parse(readFileSync(join(ROOT, yml), 'utf8')) as ActionYml).inputs ?? {}
  values = { ...given }
  for (const [name, spec] of Object.entries(declared)) if (spec.required) values[name] ??= 'true'
  reads.clear()
  setFailed.mockClear()
  const { run } = (await import(`../../src/actions/${action}/main.js`)) as {
    run: () => Promise<void>
  }
  await run()
  // Copied: jest's clearMocks empties mock.calls before each test.
  return { read: new Map(reads), failed: setFailed.mock.calls.map(([m]) => m) }
}

describe.each(Object.keys(ACTIONS))('%s', (action) => {
  const declared =
    (parse(readFileSync(join(ROOT, ACTIONS[action]!.yml), 'utf8')) as ActionYml).inputs ?? {}
  let read: Map<string, string[]>
  let failed: string[]

  beforeAll(async () => {
    ;({ read, failed } = await readAll(action))
  })

  it('reads every input before it makes its AWS clients (where this test stops)', () => {
    expect(failed).toEqual([expect.stringContaining('Input "aws-region": no region was given')])
  })

  it("reads each input with action.yml's default as its fallback", () => {
    const wrong: string[] = []
    for (const [input, fallbacks] of read) {
      const stated = declared[input]?.default ?? ''
      const expected = stated === '' && input in COMPUTED ? COMPUTED[input]! : stated
      for (const f of new Set(fallbacks)) {
        if (f !== expected)
          wrong.push(`${input}: code ${JSON.stringify(f)}, action.yml ${JSON.stringify(stated)}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('reads every input action.yml gives a default with that fallback', () => {
    // A `${{ ... }}` default (github-token) is evaluated by the runner: the code gets the value.
    const stated = Object.entries(declared).filter(
      ([, s]) => (s.default ?? '') !== '' && !s.default!.startsWith('${{')
    )
    expect(stated.map(([n]) => n).filter((n) => !read.has(n))).toEqual([])
  })
})
