/**
 * The example policies, evaluated as AWS evaluates them. An IAM policy simulator
 * (@cloud-copilot/iam-simulate: AWS's evaluation logic over resource ARNs and condition keys,
 * with the action, resource types and condition keys of AWS's service authorization reference)
 * decides, for every call each bundle can make (read from the source, as in iam.test.ts), that
 * it is allowed on this environment's resources and denied on the neighbours': another
 * environment's host, an untagged volume, another app's target group, another template's lock.
 *
 * A new AWS call fails "has a case" until CALLS says what it touches (a wildcard-only call
 * needs nothing but a row in examples/iam/README.md saying why `*` stays).
 */
import { describe, expect, it } from '@jest/globals'
import {
  isWildcardOnlyAction,
  runSimulation,
  runUnsafeSimulation,
  type Simulation
} from '@cloud-copilot/iam-simulate'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { snapshotTags, TAG } from '../../src/snapshot/ops/tags.js'
import { lockName } from '../../src/lock/deploy-lock.js'
import { artifactKey } from '../../src/release/store.js'
import { RUN } from '../../support/fixtures.js'
import { ROOT } from '../../support/emulator/install.mjs'
import { ENTRIES, list, operations, policy, type Policy } from '../helpers/iam-policies.js'

/** The committed bundles besides dist/: what users run. */
const ACTION_DIRS = ['actions/resolve-hosts/dist', 'actions/rollout/dist', 'actions/snapshot/dist']

const ACCOUNT = '123456789012'
const REGION = 'eu-west-1'
const ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy-shop-production`
const TEMPLATE = 'lt-0123456789abcdef0'
const OTHER_TEMPLATE = 'lt-0fedcba9876543210'
const OURS = { Role: 'app', Environment: 'production' }

type Context = Record<string, string | string[]>
/** One authorization AWS makes for a call: the resource and the context keys it fills in. */
interface Check {
  resource: string
  context?: Context
  /** Only these policies make this check (a call that differs by action); else every one. */
  policies?: string[]
}
/** A call: every check it needs passes on ours; each neighbour is refused. */
interface Call {
  allowed: Check[]
  denied: Record<string, Check>
}

/** The tag keys AWS fills in for a resource's tags: the global one and the service's own. */
const SERVICE_TAG_KEY: Record<string, string> = {
  ec2: 'ec2:ResourceTag',
  ssm: 'ssm:resourceTag',
  elasticloadbalancing: 'elasticloadbalancing:ResourceTag',
  autoscaling: 'autoscaling:ResourceTag'
}
function resourceTags(service: string, tags: Record<string, string>): Context {
  const context: Context = {}
  for (const [key, value] of Object.entries(tags)) {
    context[`aws:ResourceTag/${key}`] = value
    if (SERVICE_TAG_KEY[service]) context[`${SERVICE_TAG_KEY[service]}/${key}`] = value
  }
  return context
}
function requestTags(tags: Record<string, string>): Context {
  const context: Context = { 'aws:TagKeys': Object.keys(tags) }
  for (const [key, value] of Object.entries(tags)) context[`aws:RequestTag/${key}`] = value
  return context
}

const ec2 = (path: string): string => `arn:aws:ec2:${REGION}:${ACCOUNT}:${path}`
const instance = (service: string, tags: Record<string, string>): Check => ({
  resource: ec2('instance/i-0123456789abcdef0'),
  context: resourceTags(service, tags)
})
const volume = (tags: Record<string, string>): Check => ({
  resource: ec2('volume/vol-0123456789abcdef0'),
  context: resourceTags('ec2', tags)
})
/** The release tag on a host, as the rollout writes it once its current switched. */
const releaseTag = (tags: Record<string, string>): Check => ({
  ...instance('ec2', tags),
  context: { ...resourceTags('ec2', tags), ...requestTags({ [TAG.release]: '3f9c2ab' }) }
})
/** Snapshots have no account in their ARN. */
const SNAPSHOT = `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`
const snapshot = (tags: Record<string, string>, request: Context = {}): Check => ({
  resource: SNAPSHOT,
  context: { ...resourceTags('ec2', tags), ...request }
})
const document = (name: string, account = ''): Check => ({
  resource: `arn:aws:ssm:${REGION}:${account}:document/${name}`
})
const parameter = (name: string): Check => ({
  resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`
})
const template = (id: string): Check => ({ resource: ec2(`launch-template/${id}`) })
const group = (name: string): Check => ({
  resource: `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:0b1d6f1e-1111-2222-3333-444455556666:autoScalingGroupName/${name}`
})
const targetGroup = (name: string): Check => ({
  resource: `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/${name}/0123456789abcdef`
})

/** The tags a snapshot made for a template carries from its creation, as the code writes them. */
const CREATION_TAGS = snapshotTags(
  'shop',
  RUN,
  {
    volumeId: 'vol-0123456789abcdef0',
    availabilityZone: `${REGION}a`,
    sizeGiB: 8,
    encrypted: false,
    instanceId: 'i-0123456789abcdef0'
  },
  '/dev/sdf',
  {},
  TEMPLATE,
  '3f9c2ab'
)
const OUR_SNAPSHOT = { [TAG.repository]: RUN.repository, [TAG.name]: 'shop' }
const THEIR_SNAPSHOT = { [TAG.repository]: 'acme/billing', [TAG.name]: 'billing' }

const sendCommand: Call = {
  allowed: [document('AWS-RunShellScript'), instance('ssm', OURS)],
  denied: {
    "another environment's host": instance('ssm', { ...OURS, Environment: 'staging' }),
    "another role's host": instance('ssm', { ...OURS, Role: 'db' }),
    'an untagged host': instance('ssm', {}),
    'another document': document('AWS-RunPowerShellScript')
  }
}
const lock = (): Call => ({
  allowed: [parameter(lockName(TEMPLATE))],
  denied: {
    "another template's lock": parameter(lockName(OTHER_TEMPLATE)),
    'a parameter that is not a lock': parameter('/shop/production/database-password')
  }
})
const onTemplate = (): Call => ({
  allowed: [template(TEMPLATE)],
  denied: { 'another template': template(OTHER_TEMPLATE) }
})
const onGroup = (): Call => ({
  allowed: [group('shop-production')],
  denied: {
    "another environment's group": group('shop-staging'),
    "another app's group": group('billing-production')
  }
})
const onTargetGroups = (): Call => ({
  allowed: [targetGroup('shop-production'), targetGroup('shop-production-web')],
  denied: {
    "another app's target group": targetGroup('billing-production'),
    "another environment's target group": targetGroup('shop-staging')
  }
})

/** The artifact bucket of examples/infrastructure, and the action's default prefix. */
const BUCKET = `shop-production-artifacts-${ACCOUNT}`
const PREFIX = 'ebs-autoscale'
const SHA256 = 'a'.repeat(64)
/** S3 ARNs have neither region nor account. */
const object = (key: string, bucket = BUCKET): Check => ({
  resource: `arn:aws:s3:::${bucket}/${key}`
})
/**
 * ListBucket, as S3 checks it when HeadObject or GetObject finds no key (404 if allowed, else
 * 403): on the bucket, with the key asked for as `s3:prefix`.
 */
const listing = (key: string, bucket = BUCKET): Check => ({
  resource: `arn:aws:s3:::${bucket}`,
  context: { 's3:prefix': key }
})
const ARTIFACT = artifactKey(PREFIX, SHA256)
const RECORD = `${PREFIX}/releases/3f9c2ab.json`
const onArtifacts = (at: (key: string, bucket?: string) => Check): Call => ({
  allowed: [at(ARTIFACT), at(RECORD)],
  denied: {
    "another bucket's artifact": at(ARTIFACT, 'billing-production-artifacts'),
    'a key outside the prefix': at('backups/database.sql.gz')
  }
})

const alarm = (name: string, account = ACCOUNT, region = REGION): Check => ({
  resource: `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`
})

/** What each call touches. Calls that take no resource (wildcard-only) need no entry. */
const CALLS: Record<string, Call> = {
  'ssm:SendCommand': sendCommand,
  // Read-only: any alarm of the account and region may gate a deploy, whatever its name.
  'cloudwatch:DescribeAlarms': {
    allowed: [alarm('shop-production-5xx'), alarm('High latency, any name')],
    denied: {
      "another account's alarm": alarm('shop-production-5xx', '210987654321'),
      "another region's alarm": alarm('shop-production-5xx', ACCOUNT, 'us-east-1')
    }
  },
  'ssm:DescribeDocument': {
    allowed: [document('AWS-RunShellScript')],
    denied: { "another account's document": document('SomeoneElsesDocument', '210987654321') }
  },
  'ssm:PutParameter': lock(),
  'ssm:GetParameter': lock(),
  'ssm:DeleteParameter': lock(),
  'ec2:CreateSnapshot': {
    allowed: [volume(OURS), snapshot({}, requestTags(CREATION_TAGS))],
    denied: {
      'an untagged volume': volume({}),
      "another environment's volume": volume({ ...OURS, Environment: 'staging' }),
      'a snapshot not tagged as this repository’s': snapshot(
        {},
        requestTags({ ...CREATION_TAGS, [TAG.repository]: 'acme/billing' })
      ),
      'a snapshot with a tag key the action never writes': snapshot(
        {},
        requestTags({ ...CREATION_TAGS, Owner: 'someone' })
      )
    }
  },
  'ec2:CreateTags': {
    allowed: [
      ...[
        snapshot({}, { ...requestTags(CREATION_TAGS), 'ec2:CreateAction': 'CreateSnapshot' }),
        snapshot(OUR_SNAPSHOT, requestTags({ [TAG.status]: 'published' })),
        snapshot(OUR_SNAPSHOT, requestTags({ [TAG.status]: 'failed', [TAG.failure]: 'health' }))
      ].map((c) => ({ ...c, policies: ['deploy', 'snapshot'] })),
      { ...releaseTag(OURS), policies: ['deploy', 'rollout'] }
    ],
    denied: {
      "another environment's host": releaseTag({ ...OURS, Environment: 'staging' }),
      'a tag other than the release on a host': {
        ...instance('ec2', OURS),
        context: { ...resourceTags('ec2', OURS), ...requestTags({ Role: 'db' }) }
      },
      "another repository's snapshot": snapshot(
        THEIR_SNAPSHOT,
        requestTags({ [TAG.status]: 'published' })
      ),
      'claiming an existing snapshot for this repository': snapshot(
        {},
        requestTags({ [TAG.repository]: RUN.repository })
      ),
      'a status the action never writes later': snapshot(
        OUR_SNAPSHOT,
        requestTags({ [TAG.status]: 'pending' })
      )
    }
  },
  'ec2:DeleteSnapshot': {
    allowed: [snapshot(OUR_SNAPSHOT)],
    denied: {
      "another repository's snapshot": snapshot(THEIR_SNAPSHOT),
      'an untagged snapshot': snapshot({})
    }
  },
  'ec2:CreateLaunchTemplateVersion': onTemplate(),
  'ec2:ModifyLaunchTemplate': onTemplate(),
  'ec2:DeleteLaunchTemplateVersions': onTemplate(),
  'autoscaling:StartInstanceRefresh': onGroup(),
  'autoscaling:TerminateInstanceInAutoScalingGroup': onGroup(),
  'elasticloadbalancing:RegisterTargets': onTargetGroups(),
  'elasticloadbalancing:DeregisterTargets': onTargetGroups(),
  's3:GetObject': onArtifacts(object),
  's3:PutObject': onArtifacts(object),
  's3:ListBucket': {
    ...onArtifacts(listing),
    denied: { ...onArtifacts(listing).denied, 'the whole bucket': listing('') }
  }
}

const wildcardOnly = async (action: string): Promise<boolean> => {
  const [service, name] = action.split(':')
  return isWildcardOnlyAction(service!, name!)
}

/**
 * AWS's decision on one check. An AWS-owned document's ARN has no account
 * (`arn:aws:ssm:<region>::document/AWS-...`), which the simulator's input validation rejects;
 * that one check runs through the same evaluation without the validation.
 */
async function decide(doc: Policy, action: string, check: Check): Promise<string> {
  const simulation: Simulation = {
    request: {
      principal: ROLE,
      action,
      resource: { resource: check.resource, accountId: ACCOUNT },
      contextVariables: check.context ?? {}
    },
    identityPolicies: [{ name: 'example', policy: doc }],
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
  if (check.resource.split(':')[4] === '' && check.resource.includes(':document/')) {
    return runUnsafeSimulation(simulation, {})
  }
  const out = await runSimulation(simulation, {})
  if (out.resultType === 'error') {
    throw new Error(`${action} on ${check.resource}: ${JSON.stringify(out.errors)}`)
  }
  if (out.resultType !== 'single') throw new Error(`${action} on ${check.resource}: a pattern`)
  return out.overallResult
}

const ROWS = Object.entries(ENTRIES).flatMap(([name, entry]) =>
  operations(entry).map((action): [string, string] => [name, action])
)

describe('the example policies, evaluated as AWS does', () => {
  it('finds the calls to check (the scan itself can fail)', () => {
    expect(ROWS.length).toBeGreaterThan(40)
    expect(ROWS).toContainEqual(['deploy', 'ssm:SendCommand'])
    expect(ROWS).toContainEqual(['rollout', 'elasticloadbalancing:DeregisterTargets'])
    expect(ROWS).toContainEqual(['snapshot', 'ec2:CreateSnapshot'])
  })

  it.each(ROWS)('%s: %s has a case, or takes no resource', async (_name, action) => {
    expect([action, action in CALLS || (await wildcardOnly(action))]).toEqual([action, true])
  })

  it.each(ROWS)('%s.json allows %s on this environment’s resources', async (name, action) => {
    const doc = policy(name)
    const checks = CALLS[action]?.allowed ?? [{ resource: '*' }]
    for (const check of checks.filter((c) => !c.policies || c.policies.includes(name))) {
      expect([check.resource, await decide(doc, action, check)]).toEqual([
        check.resource,
        'Allowed'
      ])
    }
  })

  const DENIALS = ROWS.flatMap(([name, action]) =>
    Object.entries(CALLS[action]?.denied ?? {}).map(
      ([what, check]): [string, string, string, Check] => [name, action, what, check]
    )
  )

  it('has the neighbours the issue names', () => {
    const named = new Set(DENIALS.map(([, action, what]) => `${action} on ${what}`))
    for (const must of [
      "ssm:SendCommand on another environment's host",
      'ec2:CreateSnapshot on an untagged volume',
      "elasticloadbalancing:DeregisterTargets on another app's target group",
      "elasticloadbalancing:RegisterTargets on another app's target group",
      "ssm:PutParameter on another template's lock",
      "ssm:DeleteParameter on another template's lock",
      "s3:PutObject on another bucket's artifact",
      "s3:GetObject on another bucket's artifact"
    ])
      expect([must, named.has(must)]).toEqual([must, true])
  })

  it.each(DENIALS)('%s.json refuses %s on %s', async (name, action, _what, check) => {
    // Implicitly (no statement allows it) or explicitly (a Deny): either is a refusal.
    const decision = await decide(policy(name), action, check)
    expect([check.resource, decision]).toEqual([
      check.resource,
      expect.stringMatching(/^(Implicitly|Explicitly)Denied$/)
    ])
  })
})

describe('examples/iam/instance-read-artifacts.json (artifact-fetch: instance-role)', () => {
  const doc = policy('instance-read-artifacts')
  const decision = (action: string, check: Check): Promise<string> => decide(doc, action, check)

  it('lets the instance role read the artifacts, and nothing else', async () => {
    expect(await decision('s3:GetObject', object(ARTIFACT))).toBe('Allowed')
    for (const [action, check] of [
      ['s3:GetObject', object(ARTIFACT, 'billing-production-artifacts')],
      ['s3:GetObject', object('backups/database.sql.gz')],
      ['s3:PutObject', object(ARTIFACT)],
      ['s3:DeleteObject', object(ARTIFACT)]
    ] as const) {
      expect([action, check.resource, await decision(action, check)]).toEqual([
        action,
        check.resource,
        'ImplicitlyDenied'
      ])
    }
  })
})

describe('where `*` stays', () => {
  const README = readFileSync(join(ROOT, 'examples/iam/README.md'), 'utf8')
  /** The README's table: | `Sid` | actions | why nothing narrower | */
  const reasons = new Map(
    [...README.matchAll(/^\| `(\w+)`\s*\|[^|\n]*\|\s*([^|\n]*?)\s*\|$/gm)].map((m) => [
      m[1]!,
      m[2]!
    ])
  )
  const wildcards = Object.keys(ENTRIES).flatMap((name) =>
    policy(name)
      .Statement.filter((s) => list(s.Resource).some((r) => r === '*'))
      .map((s): [string, string, string[]] => [name, s.Sid ?? '', list(s.Action)])
  )

  it('finds them (the reader itself can fail)', () => {
    expect(wildcards.length).toBeGreaterThan(5)
    expect(reasons.size).toBeGreaterThan(3)
  })

  it.each(wildcards)(
    '%s.json %s holds only actions that take no resource',
    async (_name, _sid, actions) => {
      for (const action of actions) {
        expect([action, await wildcardOnly(action)]).toEqual([action, true])
      }
    }
  )

  it.each(wildcards)('%s.json %s says why, in examples/iam/README.md', (_name, sid) => {
    expect([sid, (reasons.get(sid) ?? '').length > 20]).toEqual([sid, true])
  })

  it('the README lists no statement that is gone', () => {
    expect([...reasons.keys()].sort()).toEqual([...new Set(wildcards.map(([, sid]) => sid))].sort())
  })
})

describe('the simulator, AGPL-3.0, stays a test tool (CONTRIBUTING.md)', () => {
  const files = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(dir, f))

  it('nothing in src/ imports it', () => {
    const importing = files('src').filter((f) =>
      readFileSync(join(ROOT, f), 'utf8').includes('@cloud-copilot/')
    )
    expect(importing).toEqual([])
  })

  it.each(['dist', ...ACTION_DIRS])('%s/licenses.txt does not list it', (dir) => {
    const licenses = readFileSync(join(ROOT, dir, 'licenses.txt'), 'utf8')
    expect(licenses.length).toBeGreaterThan(1000)
    expect(licenses).not.toContain('@cloud-copilot/')
  })
})
