/**
 * What only a publish holds: a snapshot never published is tagged failed (or deleted, on-failure:
 * delete), and a deploy lock is freed only while this run still holds it, once what its record
 * lists is settled. With the rollout's settlers, everything a deploy may hold.
 */
import { DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2'
import type { SSMClient } from '@aws-sdk/client-ssm'
import type { Clients } from '../aws/clients.js'
import { aws, awsErrorCode } from '../errors.js'
import { freeDeployLock } from '../lock/deploy-lock.js'
import { discardSnapshot, markSnapshotFailed } from '../snapshot/ops/failed.js'
import { TAG } from '../snapshot/ops/tags.js'
import type { LockKeepers } from './lock-keeper.js'
import { settleRecord } from './record.js'
import type { Settler, Settlers } from './settle.js'
import { rolloutSettlers } from './settlers.js'

/** What becomes of a snapshot the run made and never published. */
export interface Unpublished {
  /** Why it was not published (its failure tag). */
  reason: string
  /** A failed rollout's snapshot may be deleted (on-failure: delete). */
  snapshot: 'tag' | 'delete'
}

/** `keepers`: the main step's heartbeats, stopped before its lock is freed. */
export function deploySettlers(
  clients: Clients,
  unpublished: Unpublished,
  keepers?: LockKeepers
): Settlers {
  return {
    ...rolloutSettlers(clients),
    snapshot: snapshotSettler(clients.ec2, unpublished),
    lock: lockSettler(clients.ssm, recordSettlers(clients, unpublished.reason), keepers)
  }
}

/**
 * What a lock's record lists, read back from AWS (a dead run's, or this run's after its main
 * step died): as the deploy's, except that a snapshot already published is left alone (the
 * record may lag its run by one write) and one never published is tagged failed, not deleted.
 */
export function recordSettlers(clients: Clients, reason: string): Settlers {
  const tag = snapshotSettler(clients.ec2, { reason, snapshot: 'tag' })
  return {
    ...rolloutSettlers(clients),
    snapshot: async (held) => {
      const status = await snapshotStatus(clients.ec2, held.snapshotId)
      if (status === 'published' || status === 'gone')
        return `Left snapshot ${held.snapshotId} alone: it was ${status === 'gone' ? 'deleted' : 'published'}.`
      return tag(held)
    }
  }
}

async function snapshotStatus(ec2: EC2Client, snapshotId: string): Promise<string | undefined> {
  try {
    const out = await aws(
      'DescribeSnapshots',
      ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
    )
    const snapshot = out.Snapshots?.[0]
    if (!snapshot) return 'gone'
    return snapshot.Tags?.find((t) => t.Key === TAG.status)?.Value
  } catch (err) {
    if (awsErrorCode(err) === 'InvalidSnapshot.NotFound') return 'gone'
    throw err
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

/**
 * Frees the lock while this run still holds it, after settling what its record in AWS still
 * lists (what this run could not settle itself, or all it held when its main step died).
 */
export function lockSettler(
  ssm: SSMClient,
  record: Settlers,
  keepers?: LockKeepers
): Settler<'lock'> {
  return async (lock) => {
    const keeper = keepers?.get(lock.token)
    if (keeper) {
      // The record as this run knows it, then no more writes: none may land after the delete.
      await keeper.flush().catch(() => undefined)
      await keeper.stop()
    }
    let finished: string[] = []
    const freed = await freeDeployLock(ssm, lock, async (r) => {
      finished = (await settleRecord(r, record)).map((s) => s.outcome)
    })
    if (freed !== 'freed')
      return `Left the deploy lock ${lock.name} alone: this run no longer held it.`
    const also = finished.length ? ` First, from its record: ${finished.join(' ')}` : ''
    return `Released the deploy lock ${lock.name}.${also}`
  }
}
