/**
 * The example IAM policies (examples/iam/) and the AWS operations each action can call, read
 * from the source: each `new XCommand(` and `paginateX(` of an SDK client reachable from the
 * action's entry point through its imports, plus the permissions AWS checks implicitly. Shared
 * by iam.test.ts (the policies grant exactly these) and iam-simulate.test.ts (AWS's evaluation
 * of them allows these calls on this environment's resources and nothing beside).
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { ROOT } from '../../support/emulator/install.mjs'

/** SDK client package -> IAM service prefix. A new client needs a line here. */
export const SERVICES: Record<string, string> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-s3': 's3'
}

/** Permissions AWS checks beyond the API called. */
export const IMPLIED: Record<string, string[]> = {
  // CreateSnapshot with TagSpecifications needs ec2:CreateTags on the new snapshot.
  'ec2:CreateSnapshot': ['ec2:CreateTags'],
  // HeadObject of a missing key answers 403, not 404, unless the caller may list the bucket
  // (for that key's prefix): the artifact store tells "not uploaded yet" from "refused" by it.
  's3:HeadObject': ['s3:ListBucket']
}

/**
 * Operations AWS authorizes under another action's name, e.g. `'s3:HeadObject': 's3:GetObject'`
 * (HeadObject needs s3:GetObject). An operation not listed is its own action.
 */
export const AUTHORIZED_AS: Record<string, string> = {
  's3:HeadObject': 's3:GetObject'
}

/** Each policy and the entry point of the bundle it is for. */
export const ENTRIES: Record<string, string> = {
  'resolve-hosts': 'src/actions/resolve-hosts/index.ts',
  rollout: 'src/actions/rollout/index.ts',
  snapshot: 'src/actions/snapshot/index.ts',
  deploy: 'src/actions/deploy/index.ts'
}

function closure(entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen
  seen.add(entry)
  // Type-only imports are erased from the bundle: they make no call.
  const text = readFileSync(entry, 'utf8').replace(/import\s+type\s[^;]*?from\s+'[^']+'/gs, '')
  for (const m of text.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
    const next = resolve(dirname(entry), `${m[1]}.ts`)
    if (existsSync(next)) closure(next, seen)
  }
  return seen
}

/** `service:Operation` for every AWS call reachable from `entry`, sorted. */
export function operations(entry: string): string[] {
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
  return [...new Set([...ops].map((op) => AUTHORIZED_AS[op] ?? op))].sort()
}

export type Condition = Record<string, Record<string, string | string[]>>
export interface Statement {
  Sid?: string
  Effect: string
  Action: string | string[]
  Resource: string | string[]
  Condition?: Condition
}
export interface Policy {
  Version: string
  Statement: Statement[]
}

export const list = (v: string | string[]): string[] => (Array.isArray(v) ? v : [v])

export function policy(name: string): Policy {
  return JSON.parse(readFileSync(join(ROOT, 'examples/iam', `${name}.json`), 'utf8')) as Policy
}

/** Every action a policy allows, sorted. */
export function granted(name: string): string[] {
  return [
    ...new Set(
      policy(name)
        .Statement.filter((s) => s.Effect === 'Allow')
        .flatMap((s) => list(s.Action))
    )
  ].sort()
}

export const allowing = (name: string, action: string): Statement[] =>
  policy(name).Statement.filter((s) => s.Effect === 'Allow' && list(s.Action).includes(action))
