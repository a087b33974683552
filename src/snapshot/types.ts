/** The snapshot domain: the code volume, the snapshot made of it, and where it was published. */
import type { LaunchTemplateBlockDeviceMappingRequest } from '@aws-sdk/client-ec2'

/** Which volume to snapshot: the one attached to an instance at a device, or a volume by id. */
export type SnapshotSource =
  { kind: 'instance'; instanceId: string; device: string } | { kind: 'volume'; volumeId: string }

/**
 * What runs on the host just before CreateSnapshot:
 * - none: nothing (crash-consistent, like pulling the plug).
 * - sync: flush dirty pages (of `mountPoint`, or of every filesystem).
 * - freeze: fsfreeze `mountPoint` until CreateSnapshot returns, with a watchdog on the host that
 *   thaws it after `watchdogSeconds` if the thaw never arrives.
 */
export type Consistency =
  | { mode: 'none' }
  | { mode: 'sync'; mountPoint?: string }
  | { mode: 'freeze'; mountPoint: string; watchdogSeconds?: number }

export type ConsistencyMode = Consistency['mode']

export interface CodeVolume {
  volumeId: string
  availabilityZone: string
  sizeGiB: number
  volumeType?: string
  iops?: number
  throughput?: number
  encrypted: boolean
  kmsKeyId?: string
  /** The instance it is attached to, if any, and the device name EC2 reports for it. */
  instanceId?: string
  device?: string
}

export interface CreatedSnapshot {
  /** Empty under dry run: nothing was created. */
  snapshotId: string
  volume: CodeVolume
  name: string
  description: string
  /** The code device: as asked for, or where the volume is attached. */
  device?: string
  /** Every tag put on the snapshot at creation. */
  tags: Record<string, string>
  /** pending | completed | error as CreateSnapshot answered; `dry-run` when nothing was made. */
  state: string
  startTime?: string
  /** What was actually done on the host (`none` when the volume was not attached). */
  consistency: ConsistencyMode
  dryRun: boolean
}

export interface SnapshotCompletion {
  snapshotId: string
  state: 'completed'
  progress: string
  /** From the first look to the look that saw `completed`. */
  waitedMs: number
  /** DescribeSnapshots calls made. */
  checks: number
}

/**
 * The encryption of the volumes launched from the new mapping: the snapshot's (the mapping sets
 * none), or what the template asks for (`Encrypted: true`, with its KmsKeyId or the region's
 * default EBS key). `encrypted` is undefined when the snapshot's encryption was not read.
 */
export interface NewVolumeEncryption {
  by: 'snapshot' | 'template'
  encrypted?: boolean
  kmsKeyId?: string
}

export interface PublishedSnapshot {
  launchTemplateId: string
  launchTemplateName: string
  snapshotId: string
  /** The mapping's device name as written in the template. */
  device: string
  sourceVersion: number
  /** The default version read before publishing. */
  previousDefaultVersion: number
  /** The new version; undefined under dry run. */
  version?: number
  /** Whether the new version is now the default. */
  isDefault: boolean
  /** True when the ClientToken answered with a version an earlier attempt had made. */
  reusedVersion: boolean
  /** The code device's mapping before (undefined: the source had none) and after. */
  mappingBefore?: LaunchTemplateBlockDeviceMappingRequest
  mappingAfter: LaunchTemplateBlockDeviceMappingRequest
  /** What encryption new code volumes get. */
  encryption: NewVolumeEncryption
  /** The size of a new code volume: the mapping's VolumeSize, else the snapshot's. */
  volumeSizeGiB?: number
  /** Adjustments worth telling the user (a size raised to fit the snapshot...). */
  notes: string[]
  dryRun: boolean
}

/** What an Auto Scaling group launches from: the default, the latest, or a fixed version. */
export type GroupFollows = 'default' | 'latest' | 'pinned'

export interface GroupUsage {
  name: string
  via: 'launch-template' | 'mixed-instances-policy'
  /** The version as the group names it: `$Default`, `$Latest` or a number. */
  version: string
  follows: GroupFollows
  desiredCapacity: number
  instanceCount: number
}

export interface RefreshResult {
  groupName: string
  refreshId?: string
  /** Pending, InProgress, Successful, Failed, Cancelled... or `not waited` / `dry-run`. */
  status: string
  percentageComplete?: number
  statusReason?: string
}

export interface SnapshotRecord {
  snapshotId: string
  startTime?: string
  state: string
  volumeSizeGiB?: number
}

export interface RetentionResult {
  /** Deleted (or, under dry run, to be deleted), newest first. */
  deletedSnapshots: SnapshotRecord[]
  /** Older than keep-snapshots but kept, and why. */
  protectedSnapshots: Array<{ snapshotId: string; reason: string }>
  /** AWS refused the deletion: reported, not fatal. */
  refusedSnapshots: Array<{ snapshotId: string; error: string }>
  deletedVersions: number[]
  refusedVersions: Array<{ version: number; error: string }>
  dryRun: boolean
}
