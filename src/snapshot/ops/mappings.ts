/**
 * The block device mappings of a new launch template version: the source version's list as
 * it is, but for the code device's mapping, which now points at the new snapshot.
 */
import type {
  LaunchTemplateBlockDeviceMapping,
  LaunchTemplateBlockDeviceMappingRequest,
  LaunchTemplateEbsBlockDevice,
  LaunchTemplateEbsBlockDeviceRequest
} from '@aws-sdk/client-ec2'
import { fullDeviceName, sameDevice } from './device.js'
import type { CodeVolume, NewVolumeEncryption } from '../types.js'

export interface CodeMappingChange {
  mappings: LaunchTemplateBlockDeviceMappingRequest[]
  before?: LaunchTemplateBlockDeviceMappingRequest
  after: LaunchTemplateBlockDeviceMappingRequest
  /** What encryption the volumes made from the new mapping get. */
  encryption: NewVolumeEncryption
  notes: string[]
}

export interface CodeMappingSettings {
  /** MiB/s; undefined keeps the source mapping's rate (or none). */
  volumeInitializationRate?: number
}

/** What the volume is like, for a mapping the source lacked (and for its minimum size). */
export type VolumeShape = Pick<
  CodeVolume,
  'sizeGiB' | 'volumeType' | 'iops' | 'throughput' | 'encrypted' | 'kmsKeyId'
>

export function withCodeSnapshot(
  source: readonly LaunchTemplateBlockDeviceMapping[],
  device: string,
  snapshotId: string,
  volume?: VolumeShape,
  settings: CodeMappingSettings = {}
): CodeMappingChange {
  const notes: string[] = []
  const mappings = source.map(toRequest)
  const index = mappings.findIndex((m) => m.DeviceName && sameDevice(m.DeviceName, device))
  const before = index >= 0 ? mappings[index] : undefined

  let ebs: LaunchTemplateEbsBlockDeviceRequest
  if (before?.Ebs) {
    ebs = { ...before.Ebs, SnapshotId: snapshotId }
    // A mapping smaller than the snapshot would make every launch fail.
    if (volume && ebs.VolumeSize !== undefined && ebs.VolumeSize < volume.sizeGiB) {
      notes.push(
        `The mapping's VolumeSize (${ebs.VolumeSize} GiB) is smaller than the snapshot (${volume.sizeGiB} GiB): raised to ${volume.sizeGiB} GiB.`
      )
      ebs.VolumeSize = volume.sizeGiB
    }
  } else {
    ebs = newEbs(snapshotId, volume)
    notes.push(
      before
        ? `The source version mapped ${before.DeviceName} to no EBS volume (${before.NoDevice !== undefined ? 'NoDevice' : `VirtualName ${before.VirtualName}`}): replaced by the snapshot.`
        : `The source version had no mapping for ${device}: added one.`
    )
  }

  const encryption = encryptionBesideSnapshot(ebs, volume, notes)
  if (settings.volumeInitializationRate !== undefined) {
    ebs.VolumeInitializationRate = settings.volumeInitializationRate
  }

  const after: LaunchTemplateBlockDeviceMappingRequest = {
    DeviceName: before?.DeviceName ?? fullDeviceName(device),
    Ebs: ebs
  }
  if (index >= 0) mappings[index] = after
  else mappings.push(after)
  return { mappings, ...(before ? { before } : {}), after, encryption, notes }
}

/**
 * EC2 refuses every launch whose mapping has `Encrypted: false` beside a `SnapshotId`: the
 * volume takes the snapshot's encryption, so the flag goes. `Encrypted: true` stays (with its
 * KmsKeyId): it encrypts a volume made from an unencrypted snapshot. A KmsKeyId without
 * `Encrypted: true` is refused too, so it goes as well. Changes `ebs` in place.
 */
function encryptionBesideSnapshot(
  ebs: LaunchTemplateEbsBlockDeviceRequest,
  volume: VolumeShape | undefined,
  notes: string[]
): NewVolumeEncryption {
  const fromSnapshot: NewVolumeEncryption = volume
    ? {
        by: 'snapshot',
        encrypted: volume.encrypted,
        ...(volume.encrypted && volume.kmsKeyId ? { kmsKeyId: volume.kmsKeyId } : {})
      }
    : { by: 'snapshot' }
  if (ebs.Encrypted === true) {
    if (ebs.KmsKeyId) return { by: 'template', encrypted: true, kmsKeyId: ebs.KmsKeyId }
    return volume?.encrypted ? fromSnapshot : { by: 'template', encrypted: true }
  }
  if (ebs.Encrypted === false) {
    notes.push(
      "The source mapping sets Encrypted: false, which EC2 refuses beside a snapshot (every launch would fail): left out, so new volumes take the snapshot's encryption."
    )
  } else if (ebs.KmsKeyId) {
    notes.push(
      'The source mapping names a KmsKeyId without Encrypted: true, which EC2 refuses: left out.'
    )
  }
  delete ebs.Encrypted
  delete ebs.KmsKeyId
  return fromSnapshot
}

/** A mapping for a device the source version did not map: like the code volume itself. */
function newEbs(snapshotId: string, volume?: VolumeShape): LaunchTemplateEbsBlockDeviceRequest {
  const ebs: LaunchTemplateEbsBlockDeviceRequest = {
    SnapshotId: snapshotId,
    // Volumes made at launch go away with their instance, or scale-ins would leave them behind.
    DeleteOnTermination: true
  }
  if (!volume) return ebs
  if (volume.volumeType)
    ebs.VolumeType = volume.volumeType as LaunchTemplateEbsBlockDeviceRequest['VolumeType']
  if (volume.volumeType && ['gp3', 'io1', 'io2'].includes(volume.volumeType)) {
    if (volume.iops !== undefined) ebs.Iops = volume.iops
  }
  if (volume.volumeType === 'gp3' && volume.throughput !== undefined) {
    ebs.Throughput = volume.throughput
  }
  return ebs
}

/** A mapping as DescribeLaunchTemplateVersions returns it, as CreateLaunchTemplateVersion takes it. */
export function toRequest(
  m: LaunchTemplateBlockDeviceMapping
): LaunchTemplateBlockDeviceMappingRequest {
  const out: LaunchTemplateBlockDeviceMappingRequest = {}
  if (m.DeviceName !== undefined) out.DeviceName = m.DeviceName
  if (m.VirtualName !== undefined) out.VirtualName = m.VirtualName
  if (m.NoDevice !== undefined) out.NoDevice = m.NoDevice
  if (m.Ebs) out.Ebs = ebsRequest(m.Ebs)
  return out
}

function ebsRequest(e: LaunchTemplateEbsBlockDevice): LaunchTemplateEbsBlockDeviceRequest {
  const out: LaunchTemplateEbsBlockDeviceRequest = {}
  const keys = [
    'Encrypted',
    'DeleteOnTermination',
    'Iops',
    'KmsKeyId',
    'SnapshotId',
    'VolumeSize',
    'VolumeType',
    'Throughput',
    'VolumeInitializationRate',
    'EbsCardIndex'
  ] as const
  for (const key of keys) {
    if (e[key] !== undefined) (out as Record<string, unknown>)[key] = e[key]
  }
  return out
}
