/**
 * The least-privilege policies in examples/iam/ grant exactly what each action can call: every
 * AWS operation reachable from the action's entry point (read from the source: each `new
 * XCommand(` and `paginateX(` of an SDK client, through the imports), plus the permissions AWS
 * requires implicitly. A policy that misses one, or grants one never called, fails here.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { ROOT } from '../emulator/install.mjs'

const SERVICES: Record<string, string> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-auto-scaling': 'autoscaling'
}

/** Permissions AWS checks beyond the API called. */
const IMPLIED: Record<string, string[]> = {
  // CreateSnapshot with TagSpecifications needs ec2:CreateTags on the new snapshot.
  'ec2:CreateSnapshot': ['ec2:CreateTags']
}

const ENTRIES: Record<string, string> = {
  'resolve-hosts': 'src/actions/resolve-hosts/index.ts',
  rollout: 'src/actions/rollout/index.ts',
  snapshot: 'src/actions/snapshot/index.ts',
  deploy: 'src/actions/deploy/index.ts'
}

function closure(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen
  seen.add(entry)
  const text = readFileSync(entry, 'utf8')
  for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
    const next = resolve(dirname(entry), `${m[1]}.ts`)
    if (existsSync(next)) closure(next, seen)
  }
  return seen
}

function operations(entry: string): string[] {
  const ops = new Set<string>()
  for (const file of closure(join(ROOT, entry))) {
    const text = readFileSync(file, 'utf8')
    const serviceOf = new Map<string, string>()
    for (const m of text.matchAll(
      /import\s*\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g
    )) {
      for (const name of m[1]!.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim())) {
        if (SERVICES[m[2]!]) serviceOf.set(name, SERVICES[m[2]!]!)
      }
    }
    for (const m of text.matchAll(/new (\w+)Command\(/g)) {
      const service = serviceOf.get(`${m[1]}Command`)
      if (service) ops.add(`${service}:${m[1]}`)
    }
    for (const m of text.matchAll(/\bpaginate(\w+)\(/g)) {
      const service = serviceOf.get(`paginate${m[1]}`)
      if (service) ops.add(`${service}:${m[1]}`)
    }
  }
  for (const op of [...ops]) for (const extra of IMPLIED[op] ?? []) ops.add(extra)
  return [...ops].sort()
}

interface Policy {
  Statement: Array<{ Effect: string; Action: string | string[] }>
}

function granted(name: string): string[] {
  const policy = JSON.parse(
    readFileSync(join(ROOT, 'examples/iam', `${name}.json`), 'utf8')
  ) as Policy
  return [
    ...new Set(
      policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) =>
        Array.isArray(s.Action) ? s.Action : [s.Action]
      )
    )
  ].sort()
}

describe('least-privilege IAM policies', () => {
  it.each(Object.entries(ENTRIES))(
    'examples/iam/%s.json grants exactly what it can call',
    (name, entry) => {
      expect(granted(name)).toEqual(operations(entry))
    }
  )

  it('finds the calls it should (the scan itself can fail)', () => {
    expect(operations(ENTRIES['resolve-hosts']!)).toEqual([
      'autoscaling:DescribeAutoScalingGroups',
      'ec2:DescribeInstances'
    ])
    expect(operations(ENTRIES['rollout']!)).toEqual(
      expect.arrayContaining([
        'ssm:SendCommand',
        'ssm:CancelCommand',
        'ssm:DescribeInstanceInformation'
      ])
    )
  })

  it('no policy grants a wildcard action', () => {
    for (const name of Object.keys(ENTRIES)) {
      if (!existsSync(join(ROOT, 'examples/iam', `${name}.json`))) continue
      expect(granted(name).filter((a) => a.includes('*'))).toEqual([])
    }
  })
})
