/** Finds the code volume: by instance and device (any alias), or by id. */
import { type EC2Client, paginateDescribeVolumes, type Volume } from '@aws-sdk/client-ec2'
import { ActionError, awsErrorCode, wrapAwsError } from '../../errors.js'
import { deviceAliases, sameDevice } from './device.js'
import type { CodeVolume, SnapshotSource } from '../types.js'

export async function findCodeVolume(ec2: EC2Client, source: SnapshotSource): Promise<CodeVolume> {
  if (source.kind === 'volume') {
    const [volume] = await describeVolumes(
      ec2,
      { VolumeIds: [source.volumeId] },
      'no volume has that id in this region (check volume-id and aws-region)'
    )
    if (!volume) throw new ActionError(`Volume ${source.volumeId} was not found in this region.`)
    return toCodeVolume(volume)
  }

  const { instanceId, device } = source
  const volumes = await describeVolumes(ec2, {
    Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }]
  })
  const attached = volumes.flatMap((v) =>
    (v.Attachments ?? [])
      .filter((a) => a.InstanceId === instanceId && a.State !== 'detached')
      .map((a) => ({ volume: v, device: a.Device ?? '', state: a.State ?? '' }))
  )
  const match = attached.find((a) => sameDevice(a.device, device))
  if (!match) {
    const present = attached.length
      ? attached.map((a) => `${a.device} (${a.volume.VolumeId})`).join(', ')
      : 'nothing (check the instance id and the region)'
    throw new ActionError(
      `No volume is attached to ${instanceId} at ${device} (looked for ${deviceAliases(device).join(', ')}). Attached: ${present}. Set device to the code volume's device, or pass volume-id.`
    )
  }
  if (match.state !== 'attached') {
    throw new ActionError(
      `Volume ${match.volume.VolumeId} at ${match.device} on ${instanceId} is ${match.state}, not attached.`
    )
  }
  return { ...toCodeVolume(match.volume), instanceId, device: match.device }
}

async function describeVolumes(
  ec2: EC2Client,
  input: { VolumeIds?: string[]; Filters?: Array<{ Name: string; Values: string[] }> },
  notFoundHint?: string
): Promise<Volume[]> {
  const out: Volume[] = []
  try {
    // VolumeIds and MaxResults cannot be combined, so the page size is left to EC2.
    for await (const page of paginateDescribeVolumes({ client: ec2 }, input)) {
      out.push(...(page.Volumes ?? []))
    }
  } catch (err) {
    const notFound = awsErrorCode(err) === 'InvalidVolume.NotFound'
    throw wrapAwsError('DescribeVolumes', err, notFound ? notFoundHint : undefined)
  }
  return out
}

export function toCodeVolume(v: Volume): CodeVolume {
  const attachment = v.Attachments?.find((a) => a.State === 'attached')
  return {
    volumeId: v.VolumeId ?? '',
    availabilityZone: v.AvailabilityZone ?? '',
    sizeGiB: v.Size ?? 0,
    encrypted: v.Encrypted ?? false,
    ...(v.VolumeType ? { volumeType: v.VolumeType } : {}),
    ...(v.Iops !== undefined ? { iops: v.Iops } : {}),
    ...(v.Throughput !== undefined ? { throughput: v.Throughput } : {}),
    ...(v.KmsKeyId ? { kmsKeyId: v.KmsKeyId } : {}),
    ...(attachment?.InstanceId ? { instanceId: attachment.InstanceId } : {}),
    ...(attachment?.Device ? { device: attachment.Device } : {})
  }
}
