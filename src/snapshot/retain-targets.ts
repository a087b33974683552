/**
 * The retain phase: retention (ops/apply-retention.ts) scoped to each target's template (its
 * versions, and the snapshots published to it), or, with no target, to the snapshots named
 * like this one. One result for all, so outputs and the report list every deletion once.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { Log } from '../log.js'
import { applyRetention } from './ops/apply-retention.js'
import type { PreparedTarget } from './targets.js'
import type { CreatedSnapshot, RetentionResult } from './types.js'

export interface RetentionSettings {
  /** Completed snapshots to keep, newest first; 0 keeps all. */
  keepSnapshots: number
  /** Launch template versions to keep, newest first; 0 keeps all. */
  keepVersions: number
}

export async function retainTargets(
  ec2: EC2Client,
  snapshot: CreatedSnapshot,
  targets: readonly PreparedTarget[],
  settings: RetentionSettings,
  context: { dryRun: boolean; log: Log }
): Promise<RetentionResult> {
  const scopes = targets.length ? targets : [undefined]
  const results: RetentionResult[] = []
  for (const target of scopes) {
    results.push(
      await applyRetention(ec2, {
        name: snapshot.name,
        keepSnapshots: settings.keepSnapshots,
        keepVersions: settings.keepVersions,
        ...(target ? { launchTemplateId: target.template.id } : {}),
        protectSnapshotIds: snapshot.snapshotId ? [snapshot.snapshotId] : [],
        protectVersions: (target?.groups ?? [])
          .filter((g) => g.follows === 'pinned')
          .map((g) => Number(g.version)),
        upcomingSnapshot: context.dryRun,
        dryRun: context.dryRun,
        log: context.log
      })
    )
  }
  return merge(results, context.dryRun)
}

function merge(results: readonly RetentionResult[], dryRun: boolean): RetentionResult {
  const all = <K extends keyof RetentionResult>(key: K) =>
    results.flatMap((r) => r[key] as unknown[]) as never
  return {
    deletedSnapshots: all('deletedSnapshots'),
    protectedSnapshots: all('protectedSnapshots'),
    refusedSnapshots: all('refusedSnapshots'),
    deletedVersions: all('deletedVersions'),
    refusedVersions: all('refusedVersions'),
    dryRun
  }
}
