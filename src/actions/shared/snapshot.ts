/** The snapshot inputs, shared by the snapshot action and deploy: all parsed before any change. */
import { InputError } from '../../errors.js'
import { readDevice } from './device.js'
import { readLaunchTemplate } from './launch-template.js'
import { INSTANCE_ID } from '../../hosts/host.js'
import { repositoryName, type Provenance } from '../../model/provenance.js'
import type { Inputs } from './inputs.js'
import type { SnapshotSpec } from '../../snapshot/create.js'
import type { RetentionSettings } from '../../snapshot/retain-targets.js'
import type { PublishFlowOptions, PublishFlowResult } from '../../flows/publish.js'
import type { PublishSettings, PublishTarget, TargetReport } from '../../snapshot/targets.js'
import { MAX_TAGS, MAX_USER_TAGS, TAG_PREFIX } from '../../snapshot/ops/tags.js'
import type { Consistency, SnapshotSource } from '../../snapshot/types.js'

const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/
const SOURCE_VERSION = /^(\$Default|\$Latest|[1-9]\d*)$/
const MOUNT_POINT = /^\/[A-Za-z0-9._/-]*$/
/** Freezing these would freeze the SSM agent that has to thaw them. */
const AGENT_DIRS = ['/var/lib/amazon/ssm', '/var/log/amazon/ssm', '/usr/bin', '/bin', '/etc']
const DAY_MS = 86_400_000

const quote = (s: string): string => JSON.stringify(s)

/** `instance-id` (+ `device`) or `volume-id`: exactly one. */
export function readSnapshotSource(inputs: Inputs): SnapshotSource {
  const instanceId = inputs.optional('instance-id')
  const volumeId = inputs.optional('volume-id')
  if (instanceId && volumeId) {
    throw new InputError(
      'volume-id',
      'is set together with instance-id. Expected one of them: instance-id (with device) or volume-id.'
    )
  }
  if (volumeId) {
    if (!VOLUME_ID.test(volumeId)) {
      throw new InputError(
        'volume-id',
        `${quote(volumeId)} is not a volume id. Expected e.g. "vol-0123456789abcdef0".`
      )
    }
    return { kind: 'volume', volumeId }
  }
  if (!instanceId) {
    throw new InputError(
      'instance-id',
      "is required (or volume-id). Expected the instance whose code volume to snapshot, e.g. resolve-hosts' primary-instance-id."
    )
  }
  if (!INSTANCE_ID.test(instanceId)) {
    throw new InputError(
      'instance-id',
      `${quote(instanceId)} is not an instance id. Expected e.g. "i-0123456789abcdef0".`
    )
  }
  return { kind: 'instance', instanceId, device: readDevice(inputs) }
}

export function readConsistency(inputs: Inputs): Consistency {
  const mode = inputs.oneOf('consistency', ['none', 'sync', 'freeze'] as const, 'sync')
  const mountPoint = inputs.optional('mount-point')
  if (mountPoint !== undefined) {
    if (!MOUNT_POINT.test(mountPoint) || mountPoint.split('/').includes('..')) {
      throw new InputError(
        'mount-point',
        `${quote(mountPoint)} is not an absolute path. Expected e.g. "/srv/app".`
      )
    }
  }
  if (mode === 'none') return { mode }
  if (mode === 'sync') return mountPoint ? { mode, mountPoint } : { mode }
  if (!mountPoint) {
    throw new InputError(
      'mount-point',
      'is required with consistency: freeze. Expected where the code volume is mounted, e.g. "/srv/app".'
    )
  }
  const normalized = mountPoint.replace(/\/+$/, '') || '/'
  if (
    normalized === '/' ||
    AGENT_DIRS.some((d) => d === normalized || d.startsWith(`${normalized}/`))
  ) {
    throw new InputError(
      'mount-point',
      `${quote(mountPoint)} holds the system or the SSM agent; freezing it would hang the agent that has to thaw it. Expected the code volume's own mount point, e.g. "/srv/app".`
    )
  }
  return { mode, mountPoint: normalized }
}

/** Extra snapshot tags: one value per key, none of the keys this project writes. */
export function readSnapshotTags(inputs: Inputs): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const [key, values] of inputs.tags('snapshot-tags')) {
    if (values.length > 1) {
      throw new InputError(
        inputs.nameOf('snapshot-tags'),
        `${quote(key)} has several values (${values.join(', ')}). Expected one value per key.`
      )
    }
    if (key === 'Name')
      throw new InputError(
        inputs.nameOf('snapshot-tags'),
        'sets Name. Expected other keys; the Name tag comes from the name input.'
      )
    if (key.startsWith('aws:') || key.startsWith(TAG_PREFIX)) {
      throw new InputError(
        inputs.nameOf('snapshot-tags'),
        `${quote(key)} uses a reserved prefix (aws: or ${TAG_PREFIX}).`
      )
    }
    if (key.length > 128 || values[0]!.length > 256) {
      throw new InputError(
        inputs.nameOf('snapshot-tags'),
        `${quote(key)} is too long. Expected keys up to 128 and values up to 256 characters.`
      )
    }
    tags[key] = values[0]!
  }
  if (Object.keys(tags).length > MAX_USER_TAGS) {
    throw new InputError(
      inputs.nameOf('snapshot-tags'),
      `has ${Object.keys(tags).length} tags. Expected at most ${MAX_USER_TAGS} (EC2 allows ${MAX_TAGS} per snapshot and this action keeps ${MAX_TAGS - MAX_USER_TAGS} for its own).`
    )
  }
  return tags
}

/** The snapshot action's inputs: its own source and `wait`, then the shared settings. */
export function readSnapshotActionSettings(inputs: Inputs, ctx: Provenance): PublishFlowOptions {
  const source = readSnapshotSource(inputs)
  const wait = inputs.boolean('wait', true)
  const snapshot = readSnapshotSpec(inputs, ctx)
  const timeoutMs = readSnapshotTimeout(inputs)
  const publish = readPublishSettings(inputs)
  const launchTemplate = publish.target.launchTemplate
  if (!launchTemplate) {
    for (const [input, set] of [
      ['asg-name', !!publish.target.groups],
      ['instance-refresh', !!publish.instanceRefresh],
      ['keep-versions', publish.retention.keepVersions > 0],
      ['volume-initialization-rate', publish.volumeInitializationRate !== undefined]
    ] as const) {
      if (set)
        throw new InputError(
          input,
          'needs launch-template. Expected the launch template to publish the snapshot to.'
        )
    }
  }
  if (launchTemplate && !wait) {
    throw new InputError(
      'wait',
      'is false while launch-template is set. Expected wait: true: instances cannot launch from a snapshot that has not completed.'
    )
  }
  const { target, retention, ...settings } = publish
  const warmPools = inputs.oneOf('warm-pools', ['replace', 'keep'] as const, 'replace')
  return {
    source,
    snapshot,
    wait,
    timeoutMs,
    ...(launchTemplate
      ? { publish: { ...settings, targets: [{ ...target, launchTemplate }] }, warmPools }
      : {}),
    retention,
    dryRun: inputs.boolean('dry-run', false)
  }
}

/** What the snapshot is (the deploy's and the snapshot action's): consistency, name, tags. */
export function readSnapshotSpec(inputs: Inputs, ctx: Provenance): SnapshotSpec {
  const consistency = readConsistency(inputs)
  const name = inputs.string('name', repositoryName(ctx))
  if (name.length > 255)
    throw new InputError(inputs.nameOf('name'), 'is longer than 255 characters.')
  const description = inputs.optional('description')
  if (description && description.length > 255) {
    throw new InputError(
      inputs.nameOf('description'),
      'is longer than 255 characters (the EC2 limit).'
    )
  }
  const tags = readSnapshotTags(inputs)
  return { consistency, name, ...(description ? { description } : {}), tags, run: ctx }
}

export function readSnapshotTimeout(inputs: Inputs): number {
  return inputs.duration('snapshot-timeout', '30m', { minMs: 1000, maxMs: DAY_MS })
}

/**
 * The publish settings deploy shares with the snapshot action, with one target; its
 * launch template is undefined when the input is empty (deploy then finds it itself).
 */
export function readPublishSettings(inputs: Inputs): Omit<PublishSettings, 'targets'> & {
  target: Omit<PublishTarget, 'launchTemplate'> & { launchTemplate?: string }
  retention: RetentionSettings
} {
  const launchTemplate = readLaunchTemplate(inputs)
  const sourceVersion = inputs.string('source-version', '$Default')
  if (!SOURCE_VERSION.test(sourceVersion)) {
    throw new InputError(
      'source-version',
      `${quote(sourceVersion)} is not a version. Expected $Default, $Latest or a version number.`
    )
  }
  const setDefault = inputs.boolean('set-default', true)
  const asgNames = inputs.groupNames('asg-name')
  const instanceRefresh = inputs.boolean('instance-refresh', false)
  const minHealthyPercentage = inputs.integer('min-healthy-percentage', 90, { min: 0, max: 100 })
  const waitForRefresh = inputs.boolean('wait-for-refresh', true)
  const refreshTimeoutMs = inputs.duration('refresh-timeout', '60m', { minMs: 1000, maxMs: DAY_MS })
  const keepSnapshots = inputs.integer('keep-snapshots', 5, { min: 0 })
  const keepVersions = inputs.integer('keep-versions', 0, { min: 0 })
  // EC2's range for a provisioned volume initialization rate, in MiB/s.
  const volumeInitializationRate =
    inputs.optional('volume-initialization-rate') === undefined
      ? undefined
      : inputs.integer('volume-initialization-rate', 0, { min: 100, max: 300 })
  return {
    target: {
      ...(launchTemplate ? { launchTemplate } : {}),
      sourceVersion,
      ...(asgNames.length ? { groups: asgNames } : {})
    },
    device: readDevice(inputs),
    setDefault,
    ...(volumeInitializationRate !== undefined ? { volumeInitializationRate } : {}),
    ...(instanceRefresh
      ? {
          instanceRefresh: {
            minHealthyPercentage,
            wait: waitForRefresh,
            timeoutMs: refreshTimeoutMs
          }
        }
      : {}),
    retention: { keepSnapshots, keepVersions }
  }
}

/**
 * The snapshot outputs (the snapshot action's and deploy's); all declared in their action.yml.
 * The single-value template outputs are the first target's (with several groups, the template
 * of the first group named); `published-versions` has every target.
 */
export function snapshotOutputs(result: PublishFlowResult): Record<string, string | object> {
  const published = result.targets[0]?.published
  // Under dry run nothing is deleted: the summary lists what would be.
  const retention = result.dryRun ? undefined : result.retention
  return {
    'snapshot-id': result.snapshot.snapshotId,
    'volume-id': result.snapshot.volume.volumeId,
    'snapshot-state': result.state,
    'launch-template-id': published?.launchTemplateId ?? '',
    'launch-template-version': published?.version !== undefined ? String(published.version) : '',
    'previous-default-version': published ? String(published.previousDefaultVersion) : '',
    'published-versions': publishedVersions(result.targets),
    'deleted-snapshot-ids': retention?.deletedSnapshots.map((s) => s.snapshotId) ?? [],
    'deleted-launch-template-versions': retention?.deletedVersions ?? []
  }
}

/** One entry per publish target; `version` is null when none was made (dry run, failure). */
export interface PublishedVersionOutput {
  launchTemplateId: string
  launchTemplateName: string
  version: number | null
  previousDefaultVersion: number
  isDefault: boolean
  groups: string[]
}

export function publishedVersions(targets: readonly TargetReport[]): PublishedVersionOutput[] {
  return targets.map(({ template, groups, published }) => ({
    launchTemplateId: template.id,
    launchTemplateName: template.name,
    version: published && !published.dryRun ? (published.version ?? null) : null,
    previousDefaultVersion: published?.previousDefaultVersion ?? template.defaultVersion,
    isDefault: !!published?.isDefault && !published.dryRun,
    groups: groups.map((g) => g.name)
  }))
}
