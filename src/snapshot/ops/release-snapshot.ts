/**
 * The newest completed snapshot that holds a release (tag `ebs-autoscale:release`) for a launch
 * template (its retention scope), as a snapshot the publish can map: a rollback-to publishes it
 * at once instead of taking and waiting for a new one.
 */
import { DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { aws } from '../../errors.js'
import type { CreatedSnapshot } from '../types.js'
import { launchTemplateTagFilter, TAG, tagMap } from './tags.js'

export async function releaseSnapshot(
  ec2: EC2Client,
  release: string,
  launchTemplateId: string
): Promise<CreatedSnapshot | undefined> {
  const out = await aws(
    'DescribeSnapshots',
    ec2.send(
      new DescribeSnapshotsCommand({
        OwnerIds: ['self'],
        Filters: [
          { Name: `tag:${TAG.release}`, Values: [release] },
          { Name: `tag:${TAG.launchTemplate}`, Values: launchTemplateTagFilter(launchTemplateId) },
          { Name: 'status', Values: ['completed'] }
        ]
      })
    )
  )
  const newest = (out.Snapshots ?? [])
    .filter((s) => s.State === 'completed' && s.SnapshotId)
    .sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0))[0]
  if (!newest) return undefined
  const tags = tagMap(newest.Tags)
  return {
    snapshotId: newest.SnapshotId!,
    volume: {
      volumeId: newest.VolumeId ?? '',
      availabilityZone: '',
      sizeGiB: newest.VolumeSize ?? 0,
      encrypted: newest.Encrypted ?? false,
      ...(newest.KmsKeyId ? { kmsKeyId: newest.KmsKeyId } : {})
    },
    name: tags[TAG.name] ?? '',
    description: newest.Description ?? '',
    ...(tags[TAG.device] ? { device: tags[TAG.device] } : {}),
    tags,
    state: 'completed',
    ...(newest.StartTime ? { startTime: newest.StartTime.toISOString() } : {}),
    consistency: 'none',
    dryRun: false
  }
}
