/**
 * After the whole fleet succeeded: the publish flow's publish step (a new version of every
 * target, refreshes and warm pools if asked), then, after catch-up, its retention step. Each
 * answers the snapshot's result with what it added.
 */
import { type PublishFlowResult, publishSnapshot, retainSnapshots } from '../flows/publish.js'
import type { PreparedTarget } from '../snapshot/targets.js'
import type { DeployContext } from './context.js'

export async function publishPhase(
  ctx: DeployContext,
  taken: PublishFlowResult,
  prepared: readonly PreparedTarget[]
): Promise<PublishFlowResult> {
  const { clients, options, runtime, journal } = ctx
  const { snapshotId } = taken.snapshot
  const input = {
    snapshot: taken.snapshot,
    prepared,
    settings: { ...options.publish, device: options.device },
    ...(options.warmPools ? { warmPools: options.warmPools } : {}),
    run: options.snapshot.run,
    dryRun: options.dryRun,
    // From the moment a version maps it, the snapshot is in use: no longer the run's to settle.
    onPublished: (targets: PublishFlowResult['targets']) => {
      if (targets.some((t) => t.published && !t.published.dryRun))
        journal.settle({ kind: 'snapshot', snapshotId }, 'published')
    }
  }
  const published = await publishSnapshot(clients, input, runtime)
  return { ...taken, ...published }
}

export async function retentionPhase(
  ctx: DeployContext,
  published: PublishFlowResult,
  prepared: readonly PreparedTarget[]
): Promise<PublishFlowResult> {
  const { clients, options, runtime } = ctx
  const input = {
    snapshot: published.snapshot,
    prepared,
    retention: options.retention,
    dryRun: options.dryRun
  }
  return { ...published, retention: await retainSnapshots(clients, input, runtime) }
}
