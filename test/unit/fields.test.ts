/**
 * The core names what it refuses by field; each action names fields by its inputs. Two checks:
 * every field the core can raise in an action (any module its adapter reaches, read
 * statically) has an input in that action's table, declared in its action.yml; and runAction's
 * text is, for real refusals, exactly what the actions said before the core stopped naming
 * inputs (the end-to-end tests assert the same texts on the bundles).
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { parse } from 'yaml'
import { FIELDS as DEPLOY } from '../../src/actions/deploy/fields.js'
import { FIELDS as RESOLVE_HOSTS } from '../../src/actions/resolve-hosts/fields.js'
import { FIELDS as ROLLOUT } from '../../src/actions/rollout/fields.js'
import { FIELDS as SNAPSHOT } from '../../src/actions/snapshot/fields.js'
import { failureText, type FieldNames } from '../../src/actions/shared/fields.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { readSnapshotSpec } from '../../src/actions/shared/snapshot.js'
import { resolveRegion } from '../../src/aws/clients.js'
import { InputError, SettingError, setting } from '../../src/errors.js'
import { resolveCommit } from '../../src/github/commit.js'
import { capacity } from '../../src/traffic/capacity.js'
import { checkPublishable } from '../../src/snapshot/standalone-settings.js'
import { ROOT } from '../../support/emulator/moto.js'
import { RUN } from '../../support/fixtures.js'

const TABLES: Record<string, { fields: FieldNames; yml: string }> = {
  'resolve-hosts': { fields: RESOLVE_HOSTS, yml: 'actions/resolve-hosts/action.yml' },
  rollout: { fields: ROLLOUT, yml: 'actions/rollout/action.yml' },
  snapshot: { fields: SNAPSHOT, yml: 'actions/snapshot/action.yml' },
  deploy: { fields: DEPLOY, yml: 'action.yml' }
}

/** Modules that raise a field held in a variable, and the fields it can hold. */
const VARIABLE_FIELDS: Record<string, string[]> = {
  'src/snapshot/standalone-settings.ts': [
    'groups',
    'instanceRefresh',
    'keepVersions',
    'volumeInitializationRate'
  ],
  'src/release/release-id.ts': ['rollbackTo']
}

/** Every module `entry` imports, directly or not (relative imports only). */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>()
  const visit = (file: string): void => {
    if (seen.has(file)) return
    seen.add(file)
    const text = readFileSync(join(ROOT, file), 'utf8')
    for (const [, spec] of text.matchAll(/from '(\.[^']+)\.js'/g)) {
      const next = relative(ROOT, resolve(ROOT, dirname(file), `${spec}.ts`))
      if (existsSync(join(ROOT, next))) visit(next)
    }
  }
  visit(entry)
  return seen
}

/** The fields a module can raise: SettingError's first argument and setting() tokens. */
function fieldsRaised(file: string): string[] {
  const text = readFileSync(join(ROOT, file), 'utf8')
  const literal = [
    ...text.matchAll(/new SettingError\(\s*'(\w+)'/g),
    ...text.matchAll(/\bsetting\('(\w+)'\)/g)
  ].map((m) => m[1]!)
  const variable = [...text.matchAll(/new SettingError\(\s*[^\s']/g)]
  if (variable.length) {
    expect({ file, listed: file in VARIABLE_FIELDS }).toEqual({ file, listed: true })
  }
  return [...literal, ...(variable.length ? VARIABLE_FIELDS[file]! : [])]
}

describe('the field tables', () => {
  it.each(Object.keys(TABLES))(
    '%s names every field its adapter can meet by a declared input',
    (name) => {
      const { fields, yml } = TABLES[name]!
      const inputs = Object.keys(
        (parse(readFileSync(join(ROOT, yml), 'utf8')) as { inputs: Record<string, unknown> }).inputs
      )
      const raised = new Map<string, string>()
      for (const file of reachable(`src/actions/${name}/main.ts`)) {
        for (const field of fieldsRaised(file)) raised.set(field, file)
      }
      const unnamed = [...raised].filter(([field]) => !inputs.includes(fields[field] ?? ''))
      expect(unnamed.map(([field, file]) => `${field} (${file}) -> ${fields[field]}`)).toEqual([])
      // The scan finds something: the tables are not checked against nothing.
      expect(raised.size).toBeGreaterThan(2)
    }
  )

  it('names every field of a table by an input of that action', () => {
    for (const [name, { fields, yml }] of Object.entries(TABLES)) {
      const inputs = Object.keys(
        (parse(readFileSync(join(ROOT, yml), 'utf8')) as { inputs: Record<string, unknown> }).inputs
      )
      expect({ name, missing: Object.values(fields).filter((i) => !inputs.includes(i)) }).toEqual({
        name,
        missing: []
      })
    }
  })
})

/** What runAction fails the step with when `read` throws. */
async function stepFailure(read: () => unknown, fields: FieldNames): Promise<string> {
  try {
    await read()
  } catch (err) {
    return failureText(err, fields)
  }
  throw new Error('nothing was thrown')
}

describe("runAction's text for a refused setting", () => {
  it('names the input and every input the detail mentions, as the actions always did', async () => {
    expect(await stepFailure(() => resolveRegion(undefined, {}), RESOLVE_HOSTS)).toBe(
      'Input "aws-region": no region was given and neither AWS_REGION nor AWS_DEFAULT_REGION is set. Set aws-region, or run aws-actions/configure-aws-credentials (with aws-region) before this step.'
    )
    expect(await stepFailure(() => resolveCommit(RUN, 'main..dev', async () => ''), SNAPSHOT)).toBe(
      'Input "commit": "main..dev" is neither a commit SHA nor a git ref. Expected a 40-character SHA, a branch, a tag or refs/..., e.g. "v1.4.2" or "refs/heads/main".'
    )
    expect(
      await stepFailure(
        () =>
          checkPublishable(
            'app-lt',
            {
              groups: false,
              instanceRefresh: false,
              keepVersions: false,
              volumeInitializationRate: false
            },
            false
          ),
        SNAPSHOT
      )
    ).toBe(
      'Input "wait": is false while launch-template is set. Expected wait: true: instances cannot launch from a snapshot that has not completed.'
    )
    expect(
      await stepFailure(() => capacity(2, undefined, { kind: 'percent', value: 100 }), DEPLOY)
    ).toBe(
      'Input "min-healthy": is not set, and its default (two thirds of the hosts, rounded up) keeps 2 of the 2 host(s) in service, so none can leave the load balancer to deploy. Set min-healthy to 1 or less (e.g. "1") to deploy while 1 stay in service, or to 0 to accept that every host may be out at once.'
    )
  })

  it("names the deploy's description by its own input, the snapshot action's by its", async () => {
    const long = { description: 'x'.repeat(256) }
    const spec = (given: Record<string, string>, deploy: boolean) => () => {
      const inputs = new Inputs((n) => given[n] ?? '')
      return readSnapshotSpec(
        deploy ? inputs.renamed({ description: 'snapshot-description' }) : inputs,
        RUN
      )
    }
    expect(
      await stepFailure(spec({ 'snapshot-description': long.description }, true), DEPLOY)
    ).toBe('Input "snapshot-description": is longer than 255 characters (the EC2 limit).')
    expect(await stepFailure(spec(long, false), SNAPSHOT)).toBe(
      'Input "description": is longer than 255 characters (the EC2 limit).'
    )
  })

  it('leaves other errors as they are, and a field no table knows by its own name', async () => {
    expect(
      await stepFailure(() => {
        throw new InputError('tags', 'is empty.')
      }, DEPLOY)
    ).toBe('Input "tags": is empty.')
    const unknown = new SettingError('shards', `needs ${setting('groups')}.`)
    expect(unknown.message).toBe('Setting "shards": needs groups.')
    expect(
      await stepFailure(() => {
        throw unknown
      }, DEPLOY)
    ).toBe('Input "shards": needs asg-name.')
  })
})
