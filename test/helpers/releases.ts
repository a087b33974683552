/**
 * Releases against the emulator's exec hosts: artifacts built in a temporary directory, the
 * deploy and rollout options that ship them, and readers of the end state (each host's
 * `current` and releases/, the bucket, the instance, snapshot and template tags).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand
} from '@aws-sdk/client-ec2'
import { ListObjectsV2Command } from '@aws-sdk/client-s3'
import { SendCommandCommand } from '@aws-sdk/client-ssm'
import type { DeployOptions } from '../../src/deploy/types.js'
import type { RolloutFlowOptions } from '../../src/flows/rollout.js'
import { parseReleaseLine, type ReleaseLine } from '../../src/release/host-script.js'
import type { ReleaseOptions } from '../../src/release/rollout-scripts.js'
import type { ReleaseSettings, StoreSettings } from '../../src/release/ship.js'
import type { RolloutResult } from '../../src/rollout/types.js'
import {
  codeDir,
  type CodeVolumeWorld,
  groupMembers,
  hostReadlink,
  setDesired,
  sleep,
  type TestClients
} from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings } from '../../support/fixtures.js'
import { FAST } from './deploy-options.js'
import { intercept } from './intercept.js'

export const MOUNT = '/srv/app'
export const BUCKET = 'acme-releases'
export const PREFIX = 'ebs-autoscale'
export const RELEASE_TAG = 'ebs-autoscale:release'

/** Commits whose short SHAs read as the release ids a, b, c, d. */
export const COMMIT = {
  a: 'aaaaaaa1111111111111111111111111111111aa',
  b: 'bbbbbbb2222222222222222222222222222222bb',
  c: 'ccccccc3333333333333333333333333333333cc',
  d: 'ddddddd4444444444444444444444444444444dd'
} as const
export const ID = { a: 'aaaaaaa', b: 'bbbbbbb', c: 'ccccccc', d: 'ddddddd' } as const

export const STORE: StoreSettings = {
  bucket: BUCKET,
  prefix: PREFIX,
  fetch: 'presigned-url',
  urlLifetimeSeconds: 900
}

/**
 * The build inside the release (writes BUILT with the release id, runs the artifact's script)
 * and `activate` (appends the release `current` resolves to, as the host sees it).
 */
export const COMMANDS = [
  'printf "%s\\n" "$EBS_AUTOSCALE_RELEASE" > "$EBS_AUTOSCALE_RELEASE_DIR/BUILT"',
  './bin/hello.sh > hello.out'
].join('\n')
export const ACTIVATE = `basename "$(pwd -P)" >> ${MOUNT}/activations`

/** A fresh working directory for one test: artifacts, packed archives and host logs. */
export function workDir(): string {
  return mkdtempSync(join(tmpdir(), 'releases-test-'))
}

/** A directory artifact: index.html and a small script, both naming `version`. */
export function buildArtifact(work: string, version: string, extra: Record<string, string> = {}) {
  const dir = join(work, `build-${version}`)
  mkdirSync(join(dir, 'bin'), { recursive: true })
  writeFileSync(join(dir, 'index.html'), `<h1>${version}</h1>\n`)
  writeFileSync(join(dir, 'bin/hello.sh'), `#!/bin/sh\necho "hello from ${version}"\n`)
  chmodSync(join(dir, 'bin/hello.sh'), 0o755)
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content)
  return dir
}

export function releaseOptions(
  work: string,
  artifact: string,
  commit: string,
  extra: { keepReleases?: number; commands?: string; env?: Array<[string, string]> } = {}
): ReleaseOptions {
  return {
    settings: {
      mountPoint: MOUNT,
      keepReleases: extra.keepReleases ?? 5,
      activate: ACTIVATE,
      artifact,
      store: STORE,
      tempDirectory: work
    },
    commit,
    commands: {
      commands: extra.commands ?? COMMANDS,
      logName: 'deploy',
      logDirectory: join(work, 'logs'),
      ...(extra.env ? { env: extra.env } : {})
    }
  }
}

/** rollback-to's layout settings, as the actions read them. */
export const ROLLBACK_SETTINGS: ReleaseSettings = {
  mountPoint: MOUNT,
  keepReleases: 5,
  activate: ACTIVATE,
  store: STORE
}

let runs = 4242

/** The deploy of a code-volume world's group, publishing to its template, polled fast. */
export function deployOf(w: CodeVolumeWorld, extra: Partial<DeployOptions> = {}): DeployOptions {
  const base = deployOptions()
  return deployOptions({
    query: { tags: new Map(), states: ['running'], asgNames: [w.asgName] },
    rollout: rolloutSettings({ script: [], backoff: FAST, hostTimeoutMs: 30_000 }),
    // Each deploy is a run of its own: publishing reuses the version a run made for a snapshot
    // (its ClientToken names the run), so a rollback-to in the run that published that
    // snapshot would find the old version instead of making a new one.
    snapshot: {
      ...base.snapshot,
      run: { ...base.snapshot.run, runId: String(++runs) },
      consistency: { mode: 'sync', mountPoint: MOUNT }
    },
    publish: {
      targets: [{ launchTemplate: w.launchTemplateId, sourceVersion: '$Default' }],
      setDefault: true
    },
    catchUp: { maxRounds: 1, readyTimeoutMs: 5_000 },
    ...extra
  })
}

/** The rollout flow on these hosts (ids: in that order, the first the primary). */
export function rolloutOf(
  hosts: RolloutFlowOptions['hosts'],
  extra: Partial<RolloutFlowOptions> = {}
): RolloutFlowOptions {
  return {
    hosts,
    rollout: rolloutSettings({ script: [], backoff: FAST, hostTimeoutMs: 30_000 }),
    traffic: { targetGroups: { auto: false, given: [] } },
    ...extra
  }
}

/** What `current` names on the host, as it reads it (`releases/<id>`); undefined: none. */
export function currentOf(root: string, instanceId: string): string | undefined {
  if (!existsSync(join(codeDir(root, instanceId), 'current'))) return undefined
  return hostReadlink(root, instanceId, MOUNT, `${MOUNT}/current`)
}

/** Every entry of the host's releases/ (hidden leftovers included), sorted. */
export function releasesOn(root: string, instanceId: string): string[] {
  const dir = join(codeDir(root, instanceId), 'releases')
  return existsSync(dir) ? readdirSync(dir).sort() : []
}

export function fileOn(root: string, instanceId: string, path: string): string | undefined {
  const file = join(codeDir(root, instanceId), path)
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined
}

/** Each host's release line (the last one of its output). */
export function releaseLines(rollout: RolloutResult | undefined): Record<string, ReleaseLine> {
  const lines: Record<string, ReleaseLine> = {}
  for (const r of rollout?.results ?? []) {
    const line = parseReleaseLine(`${r.stdoutTail ?? ''}\n${r.stderrTail ?? ''}`)
    if (line) lines[r.instanceId] = line
  }
  return lines
}

/** The `ebs-autoscale:release` tag of each instance (undefined where it has none). */
export async function releaseTags(
  c: TestClients,
  ids: readonly string[]
): Promise<Record<string, string | undefined>> {
  const out = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [...ids] }))
  const tags: Record<string, string | undefined> = {}
  for (const i of (out.Reservations ?? []).flatMap((r) => r.Instances ?? []))
    tags[i.InstanceId!] = i.Tags?.find((t) => t.Key === RELEASE_TAG)?.Value
  return tags
}

/** Every key in the bucket, sorted. */
export async function bucketKeys(c: TestClients): Promise<string[]> {
  const out = await c.s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))
  return (out.Contents ?? []).map((o) => o.Key!).sort()
}

/** The template's default version: its number, the snapshot /dev/sdf boots, the instance release tag. */
export async function templateDefault(c: TestClients, templateId: string) {
  const out = await c.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: templateId,
      Versions: ['$Default']
    })
  )
  const v = out.LaunchTemplateVersions![0]!
  const data = v.LaunchTemplateData ?? {}
  const instanceTags = data.TagSpecifications?.find((s) => s.ResourceType === 'instance')?.Tags
  return {
    version: v.VersionNumber!,
    snapshotId: data.BlockDeviceMappings?.find((m) => m.DeviceName === '/dev/sdf')?.Ebs?.SnapshotId,
    release: instanceTags?.find((t) => t.Key === RELEASE_TAG)?.Value,
    /** The other instance tags are kept as the source version had them. */
    otherTags: (instanceTags ?? []).filter((t) => t.Key !== RELEASE_TAG).length
  }
}

/** Every snapshot owned here: id -> its release tag. */
export async function snapshotReleases(
  c: TestClients
): Promise<Record<string, string | undefined>> {
  const out = await c.ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'] }))
  const snapshots: Record<string, string | undefined> = {}
  for (const s of out.Snapshots ?? [])
    snapshots[s.SnapshotId!] = s.Tags?.find((t) => t.Key === RELEASE_TAG)?.Value
  return snapshots
}

/** Scales the group out by `count`; answers the new members. */
export async function scaleOut(c: TestClients, w: CodeVolumeWorld, count = 1): Promise<string[]> {
  const before = await groupMembers(c, w.asgName)
  await setDesired(c, w.asgName, before.length + count)
  for (let i = 0; i < 100; i++) {
    const now = await groupMembers(c, w.asgName)
    const fresh = now.filter((id) => !before.includes(id))
    if (fresh.length === count) return fresh
    await sleep(50)
  }
  throw new Error(`${w.asgName} did not launch ${count} instance(s)`)
}

/** The SSM client, counting the commands each host is sent. */
export function countingSends(c: TestClients) {
  const perHost: Record<string, number> = {}
  const ssm = intercept(c.ssm, (command, send) => {
    if (command instanceof SendCommandCommand)
      for (const id of command.input.InstanceIds ?? []) perHost[id] = (perHost[id] ?? 0) + 1
    return send(command)
  })
  return { ssm, perHost }
}
