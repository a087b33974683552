/** A snapshot the run made but never published: tagged failed, or deleted when asked. */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { discardSnapshot, markSnapshotFailed } from '../snapshot/ops/failed.js'
import type { Releaser } from './release.js'

export function snapshotReleaser(
  ec2: EC2Client,
  options: {
    /** Why it was not published (its failure tag). */
    reason: string
    /** A failed rollout's snapshot may be deleted (on-failure: delete). */
    settle: 'tag' | 'delete'
  }
): Releaser<'snapshot'> {
  return async ({ snapshotId }) => {
    if (options.settle === 'delete') {
      await discardSnapshot(ec2, snapshotId)
      return `Deleted snapshot ${snapshotId}: it was never published (on-failure: delete).`
    }
    await markSnapshotFailed(ec2, snapshotId, options.reason)
    return `Tagged snapshot ${snapshotId} as failed: it was never published.`
  }
}
