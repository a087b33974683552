/**
 * What only a publish holds: a snapshot never published is tagged failed (or deleted, on-failure:
 * delete), and a deploy lock is freed only while this run still holds it. With the rollout's
 * settlers, everything a deploy may hold.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { SSMClient } from '@aws-sdk/client-ssm'
import type { Clients } from '../aws/clients.js'
import { freeDeployLock } from '../lock/deploy-lock.js'
import { discardSnapshot, markSnapshotFailed } from '../snapshot/ops/failed.js'
import type { Settler, Settlers } from './settle.js'
import { rolloutSettlers } from './settlers.js'

/** What becomes of a snapshot the run made and never published. */
export interface Unpublished {
  /** Why it was not published (its failure tag). */
  reason: string
  /** A failed rollout's snapshot may be deleted (on-failure: delete). */
  snapshot: 'tag' | 'delete'
}

export function deploySettlers(clients: Clients, unpublished: Unpublished): Settlers {
  return {
    ...rolloutSettlers(clients),
    snapshot: snapshotSettler(clients.ec2, unpublished),
    lock: lockSettler(clients.ssm)
  }
}

export function snapshotSettler(ec2: EC2Client, unpublished: Unpublished): Settler<'snapshot'> {
  return async ({ snapshotId }) => {
    if (unpublished.snapshot === 'delete') {
      await discardSnapshot(ec2, snapshotId)
      return `Deleted snapshot ${snapshotId}: it was never published (on-failure: delete).`
    }
    await markSnapshotFailed(ec2, snapshotId, unpublished.reason)
    return `Tagged snapshot ${snapshotId} as failed: it was never published.`
  }
}

export function lockSettler(ssm: SSMClient): Settler<'lock'> {
  return async (lock) =>
    (await freeDeployLock(ssm, lock)) === 'freed'
      ? `Released the deploy lock ${lock.name}.`
      : `Left the deploy lock ${lock.name} alone: this run no longer held it.`
}
