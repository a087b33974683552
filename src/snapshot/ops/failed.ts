/** After a failed rollout: mark the snapshot made for it, or delete it. */
import { CreateTagsCommand, DeleteSnapshotCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { aws } from '../../errors.js'
import { asTagList, TAG } from './tags.js'

/**
 * Tags the snapshot `ebs-autoscale:status=failed` (and why): never published, and first in
 * line for retention, which does not count it among the snapshots it keeps.
 */
export async function markSnapshotFailed(
  ec2: EC2Client,
  snapshotId: string,
  reason?: string
): Promise<void> {
  const tags: Record<string, string> = { [TAG.status]: 'failed' }
  if (reason) tags[TAG.failure] = reason.slice(0, 256)
  await aws(
    'CreateTags',
    ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: asTagList(tags) }))
  )
}

export async function discardSnapshot(ec2: EC2Client, snapshotId: string): Promise<void> {
  await aws('DeleteSnapshot', ec2.send(new DeleteSnapshotCommand({ SnapshotId: snapshotId })))
}
