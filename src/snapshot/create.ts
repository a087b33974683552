/**
 * Phase 1: find the code volume, make it consistent, and create the snapshot, tagged at
 * creation (TagSpecifications), so a step that dies halfway leaves no untagged snapshot.
 */
import {
  CreateSnapshotCommand,
  type CreateSnapshotCommandInput,
  type CreateSnapshotCommandOutput,
  type EC2Client
} from '@aws-sdk/client-ec2'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { aws } from '../errors.js'
import type { Provenance } from '../model/provenance.js'
import type { Runtime } from '../runtime.js'
import { withConsistency } from './ops/consistency.js'
import { fullDeviceName } from './ops/device.js'
import { checkPermission } from './ops/dry-run.js'
import { asTagList, defaultDescription, snapshotTags } from './ops/tags.js'
import type { Consistency, CreatedSnapshot, SnapshotSource } from './types.js'
import { findCodeVolume } from './ops/volume.js'

export interface CreateSnapshotOptions {
  source: SnapshotSource
  consistency: Consistency
  /** The Name tag, shared by every snapshot of this code (retention groups by it). */
  name: string
  /** Defaults to one naming the repository, commit and run. */
  description?: string
  /** Extra tags (the `tags` input). */
  tags?: Readonly<Record<string, string>>
  /**
   * The templates it will be published to, as the launch-template tag holds them (one id, or
   * several space separated: launchTemplateTag), so retention works per template.
   */
  launchTemplateId?: string
  /** The release `current` names on the volume (releases): a rollback-to finds it by this tag. */
  release?: string
  run: Provenance
  dryRun?: boolean
  /** consistency: sync already ran on the host, at the end of its own command (deploy). */
  flushedOnHost?: boolean
}

/** What the snapshot is, wherever its volume comes from. */
export type SnapshotSpec = Omit<CreateSnapshotOptions, 'source' | 'dryRun' | 'flushedOnHost'>

export async function createCodeSnapshot(
  ec2: EC2Client,
  ssm: SSMClient | undefined,
  options: CreateSnapshotOptions,
  runtime: Runtime
): Promise<CreatedSnapshot> {
  const { log } = runtime
  const volume = await findCodeVolume(ec2, options.source)
  const device =
    options.source.kind === 'instance' ? fullDeviceName(options.source.device) : volume.device
  log.info(
    `Code volume: ${volume.volumeId} (${volume.sizeGiB} GiB ${volume.volumeType ?? ''}${volume.encrypted ? ', encrypted' : ''})` +
      (volume.instanceId ? ` at ${volume.device} on ${volume.instanceId}` : ', not attached')
  )

  const description = options.description || defaultDescription(options.run)
  const tags = snapshotTags(
    options.name,
    options.run,
    volume,
    device,
    options.tags,
    options.launchTemplateId,
    options.release
  )
  const request = {
    VolumeId: volume.volumeId,
    Description: description,
    TagSpecifications: [{ ResourceType: 'snapshot' as const, Tags: asTagList(tags) }]
  }
  const base = { volume, name: options.name, description, tags, ...(device ? { device } : {}) }

  const { value, applied } = await withConsistency(
    ssm,
    volume.instanceId,
    options.consistency,
    () => createOrCheck(ec2, request, options.dryRun ?? false),
    { dryRun: options.dryRun ?? false, flushedOnHost: options.flushedOnHost ?? false },
    runtime
  )

  if (!value) {
    log.info(`Dry run: would snapshot ${volume.volumeId} as "${options.name}" (allowed).`)
    return { ...base, snapshotId: '', state: 'dry-run', consistency: applied, dryRun: true }
  }
  const snapshotId = value.SnapshotId ?? ''
  log.info(`Created snapshot ${snapshotId} of ${volume.volumeId} (${value.State ?? 'pending'}).`)
  return {
    ...base,
    snapshotId,
    state: value.State ?? 'pending',
    ...(value.StartTime ? { startTime: value.StartTime.toISOString() } : {}),
    consistency: applied,
    dryRun: false
  }
}

/** CreateSnapshot; in a dry run, only whether it would be allowed (then nothing is returned). */
async function createOrCheck(
  ec2: EC2Client,
  request: CreateSnapshotCommandInput,
  dryRun: boolean
): Promise<CreateSnapshotCommandOutput | undefined> {
  if (dryRun) {
    await checkPermission(
      'CreateSnapshot',
      ec2.send(new CreateSnapshotCommand({ ...request, DryRun: true }))
    )
    return undefined
  }
  return aws('CreateSnapshot', ec2.send(new CreateSnapshotCommand(request)))
}
