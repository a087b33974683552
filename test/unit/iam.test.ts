/**
 * The least-privilege policies in examples/iam/ grant exactly what each action can call: every
 * AWS operation reachable from the action's entry point (read from the source: each `new
 * XCommand(` and `paginateX(` of an SDK client, through the imports), plus the permissions AWS
 * requires implicitly. A policy that misses one, or grants one never called, fails here.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { snapshotTags, TAG } from '../../src/snapshot/ops/tags.js'
import { RUN } from '../../support/fixtures.js'
import { ROOT } from '../../support/emulator/install.mjs'

const SERVICES: Record<string, string> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing'
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

type Condition = Record<string, Record<string, string | string[]>>
interface Statement {
  Sid?: string
  Effect: string
  Action: string | string[]
  Resource: string | string[]
  Condition?: Condition
}
interface Policy {
  Statement: Statement[]
}

const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v])

function policy(name: string): Policy {
  return JSON.parse(readFileSync(join(ROOT, 'examples/iam', `${name}.json`), 'utf8')) as Policy
}

function granted(name: string): string[] {
  return [
    ...new Set(
      policy(name)
        .Statement.filter((s) => s.Effect === 'Allow')
        .flatMap((s) => list(s.Action))
    )
  ].sort()
}

const allowing = (name: string, action: string): Statement[] =>
  policy(name).Statement.filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action))

/** Tags written after creation, by CreateTags on the snapshot: the status and why it failed. */
const LATER_KEYS: string[] = [TAG.status, TAG.failure].sort()
/**
 * Tags written at creation, as the code writes them for a snapshot made for a template (every
 * optional tag present): the policy must allow exactly these keys.
 */
const CREATION_KEYS = Object.keys(
  snapshotTags(
    'shop',
    RUN,
    {
      volumeId: 'vol-1',
      availabilityZone: 'us-east-1a',
      sizeGiB: 8,
      encrypted: false,
      instanceId: 'i-1'
    },
    '/dev/sdf',
    {},
    'lt-0123456789abcdef0'
  )
).sort()
const REPOSITORY = 'acme/shop'
const WITH_SNAPSHOTS = ['deploy', 'snapshot']

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

  it.each(WITH_SNAPSHOTS)(
    "examples/iam/%s.json allows ec2:CreateTags only at CreateSnapshot, or for the status on this repository's snapshots",
    (name) => {
      const statements = allowing(name, 'ec2:CreateTags')
      expect(statements.map((s) => s.Condition === undefined)).toEqual([false, false])
      for (const s of statements) expect(list(s.Action)).toEqual(['ec2:CreateTags'])
      expect(statements.map((s) => s.Condition)).toEqual([
        { StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' } },
        {
          StringEquals: {
            'aws:ResourceTag/ebs-autoscale:repository': REPOSITORY,
            'aws:RequestTag/ebs-autoscale:status': ['published', 'failed']
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': LATER_KEYS }
        }
      ])
    }
  )

  it.each(WITH_SNAPSHOTS)(
    "examples/iam/%s.json creates only snapshots tagged as this repository's, with only the keys it writes",
    (name) => {
      const onSnapshots = allowing(name, 'ec2:CreateSnapshot').filter((s) =>
        list(s.Resource).some((r) => r.includes(':snapshot/'))
      )
      expect(onSnapshots.map((s) => s.Condition)).toEqual([
        {
          StringEquals: { 'aws:RequestTag/ebs-autoscale:repository': REPOSITORY },
          'ForAllValues:StringEquals': { 'aws:TagKeys': CREATION_KEYS }
        }
      ])
      // The volume statement has no condition, so it must not reach snapshots.
      for (const s of allowing(name, 'ec2:CreateSnapshot').filter((x) => !x.Condition)) {
        expect(list(s.Resource).every((r) => r.includes(':volume/'))).toBe(true)
      }
    }
  )

  it('no policy allows ec2:CreateTags without a condition', () => {
    for (const name of Object.keys(ENTRIES)) {
      if (!existsSync(join(ROOT, 'examples/iam', `${name}.json`))) continue
      const bare = allowing(name, 'ec2:CreateTags').filter((s) => !s.Condition)
      expect([name, bare]).toEqual([name, []])
    }
  })

  it('no policy grants a wildcard action', () => {
    for (const name of Object.keys(ENTRIES)) {
      if (!existsSync(join(ROOT, 'examples/iam', `${name}.json`))) continue
      expect(granted(name).filter((a) => a.includes('*'))).toEqual([])
    }
  })
})
