/**
 * After the whole fleet succeeded: a new version of every target, refreshes and warm pools if
 * asked, then (after catch-up) retention. Each answers the snapshot's result with what it added.
 */
import { publishToTargets } from '../snapshot/publishing.js'
import { refreshTargets } from '../snapshot/refresh.js'
import { retain } from '../snapshot/retain.js'
import type { SnapshotActionResult } from '../snapshot/run.js'
import { type PreparedTarget, targetFailure } from '../snapshot/targets.js'
import { refreshWarmPools } from '../snapshot/warm-pool.js'
import type { DeployContext } from './context.js'

export async function publishPhase(
  ctx: DeployContext,
  taken: SnapshotActionResult,
  prepared: readonly PreparedTarget[]
): Promise<SnapshotActionResult> {
  const { clients, options, runtime, journal } = ctx
  const { dryRun } = options
  const context = { run: options.snapshot.run, dryRun, log: runtime.log }
  const settings = { ...options.publish, device: options.device }
  const targets = await publishToTargets(clients.ec2, taken.snapshot, prepared, settings, context)
  if (targets.some((t) => t.published && !t.published.dryRun))
    journal.settle({ kind: 'snapshot', snapshotId: taken.snapshot.snapshotId }, 'published')
  const refresh = options.publish.instanceRefresh
  if (refresh) await refreshTargets(clients.autoscaling, targets, refresh, dryRun, runtime)
  const warmPools = options.warmPools
    ? await refreshWarmPools(
        clients.autoscaling,
        targets,
        { mode: options.warmPools, dryRun, log: runtime.log },
        settings.setDefault
      )
    : undefined
  const failure = targetFailure(targets)
  return {
    ...taken,
    targets,
    ...(warmPools ? { warmPools } : {}),
    ...(failure ? { failure } : {})
  }
}

export async function retentionPhase(
  ctx: DeployContext,
  published: SnapshotActionResult,
  prepared: readonly PreparedTarget[]
): Promise<SnapshotActionResult> {
  const { clients, options, runtime } = ctx
  const context = { dryRun: options.dryRun, log: runtime.log }
  const retention = await retain(
    clients.ec2,
    published.snapshot,
    prepared,
    options.retention,
    context
  )
  return { ...published, retention }
}
