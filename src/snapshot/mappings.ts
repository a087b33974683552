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
import type { CodeVolume } from './types.js'

export interface CodeMappingChange {
  mappings: LaunchTemplateBlockDeviceMappingRequest[]
  before?: LaunchTemplateBlockDeviceMappingRequest
  after: LaunchTemplateBlockDeviceMappingRequest
  notes: string[]
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
  volume?: VolumeShape
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

  const after: LaunchTemplateBlockDeviceMappingRequest = {
    DeviceName: before?.DeviceName ?? fullDeviceName(device),
    Ebs: ebs
  }
  if (index >= 0) mappings[index] = after
  else mappings.push(after)
  return { mappings, ...(before ? { before } : {}), after, notes }
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
