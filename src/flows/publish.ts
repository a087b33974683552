/**
 * The snapshot action from end to end, as its phases: prepare (read-only checks of every
 * target), create, wait, publish, refresh, retain. Anything that fails after the snapshot
 * exists is returned as `failure` with everything done so far, so the caller can still
 * report the snapshot id and what changed.
 */
import type { Clients } from '../aws/clients.js'
import { ActionError, errorMessage } from '../errors.js'
import type { Failure } from '../model/failure.js'
import type { Runtime } from '../runtime.js'
import { createCodeSnapshot, type SnapshotSpec } from '../snapshot/create.js'
import { publishToTargets } from '../snapshot/publish-targets.js'
import { refreshTargets } from '../snapshot/refresh-targets.js'
import { retain, type RetentionSettings } from '../snapshot/retain-targets.js'
import {
  type PublishSettings,
  prepareTargets,
  targetFailure,
  type TargetReport
} from '../snapshot/targets.js'
import type {
  CreatedSnapshot,
  RetentionResult,
  SnapshotCompletion,
  SnapshotSource
} from '../snapshot/types.js'
import { launchTemplateTag } from '../snapshot/ops/tags.js'
import { SnapshotFailedError, waitOrMarkFailed } from '../snapshot/wait.js'
import type { WarmPoolMode, WarmPoolResult } from '../snapshot/ops/warm-pool.js'
import { refreshWarmPools } from '../snapshot/refresh-warm-pools.js'

export const DEFAULT_DEVICE = '/dev/sdf'

export interface SnapshotActionOptions {
  source: SnapshotSource
  snapshot: SnapshotSpec
  /** Wait for `completed` (required to publish). */
  wait: boolean
  timeoutMs: number
  publish?: PublishSettings
  /** Warm pools of the groups that pick up the new version; undefined: not looked at. */
  warmPools?: WarmPoolMode
  retention: RetentionSettings
  dryRun: boolean
}

export interface SnapshotActionResult {
  snapshot: CreatedSnapshot
  /** The last known state: pending, completed, error or dry-run. */
  state: string
  completion?: SnapshotCompletion
  /** One per publish target, in the order given. */
  targets: TargetReport[]
  retention?: RetentionResult
  /** One per group whose warm pool was looked at (only with publish and warmPools). */
  warmPools?: WarmPoolResult[]
  failure?: Failure
  dryRun: boolean
}

export type SnapshotClients = Clients

export async function runSnapshotAction(
  clients: SnapshotClients,
  options: SnapshotActionOptions,
  runtime: Runtime
): Promise<SnapshotActionResult> {
  const { ec2 } = clients
  const { log } = runtime
  const { dryRun } = options
  if (options.publish && !options.wait && !dryRun) {
    // Instances cannot launch from a snapshot that has not completed.
    throw new ActionError('Publishing a snapshot needs wait: true.')
  }
  const prepared = options.publish ? await prepareTargets(clients, options.publish) : []

  const snapshot = await createCodeSnapshot(
    ec2,
    clients.ssm,
    {
      ...options.snapshot,
      source: options.source,
      dryRun,
      // Retention selects a template's snapshots by this tag.
      ...(prepared.length
        ? { launchTemplateId: launchTemplateTag(prepared.map((p) => p.template.id)) }
        : {})
    },
    runtime
  )
  const result: SnapshotActionResult = {
    snapshot,
    state: snapshot.state,
    targets: prepared.map(({ template, groups }) => ({ template, groups, refreshes: [] })),
    dryRun
  }
  if (options.wait && !dryRun) {
    try {
      const wait = { timeoutMs: options.timeoutMs }
      result.completion = await waitOrMarkFailed(ec2, snapshot.snapshotId, wait, runtime)
      result.state = 'completed'
    } catch (err) {
      if (err instanceof SnapshotFailedError) result.state = 'error'
      result.failure = { phase: 'wait', message: errorMessage(err) }
      return result
    }
  }
  if (options.publish && prepared.length) {
    const context = { run: options.snapshot.run, dryRun, log }
    result.targets = await publishToTargets(ec2, snapshot, prepared, options.publish, context)
    const refresh = options.publish.instanceRefresh
    if (refresh) await refreshTargets(clients.autoscaling, result.targets, refresh, dryRun, runtime)
    if (options.warmPools) {
      const mode = { mode: options.warmPools, dryRun, log }
      const { setDefault } = options.publish
      result.warmPools = await refreshWarmPools(
        clients.autoscaling,
        result.targets,
        mode,
        setDefault
      )
    }
    const failure = targetFailure(result.targets)
    if (failure) {
      result.failure = failure
      return result
    }
  }
  try {
    result.retention = await retain(ec2, snapshot, prepared, options.retention, { dryRun, log })
  } catch (err) {
    result.failure = { phase: 'retention', message: errorMessage(err) }
  }
  return result
}
