/** The snapshot inputs, shared by the snapshot action and deploy: all parsed before any change. */
import { readDevice } from './device.js'
import { readLaunchTemplate } from './launch-template.js'
import { repositoryName, type Provenance } from '../../model/provenance.js'
import type { Inputs } from './inputs.js'
import type { SnapshotSpec } from '../../snapshot/create.js'
import type { RetentionSettings } from '../../snapshot/retain-targets.js'
import type { PublishFlowResult } from '../../flows/publish.js'
import type { PublishSettings, PublishTarget, TargetReport } from '../../snapshot/targets.js'
import {
  checkSnapshotText,
  checkSourceVersion,
  consistencyOf,
  snapshotTagsOf
} from '../../snapshot/settings.js'
import type { Consistency } from '../../snapshot/types.js'

const DAY_MS = 86_400_000

export function readConsistency(inputs: Inputs): Consistency {
  const mode = inputs.oneOf('consistency', ['none', 'sync', 'freeze'] as const, 'sync')
  return consistencyOf(mode, inputs.optional('mount-point'))
}

/** What the snapshot is (the deploy's and the snapshot action's): consistency, name, tags. */
export function readSnapshotSpec(inputs: Inputs, ctx: Provenance): SnapshotSpec {
  const consistency = readConsistency(inputs)
  const name = inputs.string('name', repositoryName(ctx))
  const description = inputs.optional('description')
  checkSnapshotText(name, description)
  const tags = snapshotTagsOf(inputs.tags('snapshot-tags'))
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
  const sourceVersion = checkSourceVersion(inputs.string('source-version', '$Default'))
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
