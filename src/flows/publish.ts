/**
 * The publish flow: a snapshot of the code volume becomes a new version of every target's
 * launch template. Written once, as steps that each take their clients, their inputs and the
 * runtime, and return what they made:
 *
 *   prepareTargets   read-only checks of every target, before anything changes
 *   takeSnapshot     create, then wait; a snapshot that ends in error is tagged failed
 *   publishSnapshot  a new version of every target, its instance refreshes, its warm pools
 *   retainSnapshots  the old snapshots and versions of every target
 *
 * runPublishFlow runs them in that order for the snapshot action. The deploy calls the same
 * steps at its own moments: the snapshot beside the rollout, the publish after it. Anything
 * that fails once the snapshot exists is returned as a Failure beside what was done so far,
 * so the caller can still report the snapshot and what changed.
 */
import type { Clients } from '../aws/clients.js'
import { ActionError, errorMessage } from '../errors.js'
import type { Provenance } from '../model/provenance.js'
import type { Failure } from '../model/failure.js'
import type { Backoff } from '../poll.js'
import type { Runtime } from '../runtime.js'
import { createCodeSnapshot, type SnapshotSpec } from '../snapshot/create.js'
import { markSnapshotFailed } from '../snapshot/ops/failed.js'
import { launchTemplateTag } from '../snapshot/ops/tags.js'
import type { WarmPoolMode, WarmPoolResult } from '../snapshot/ops/warm-pool.js'
import { publishToTargets } from '../snapshot/publish-targets.js'
import { refreshTargets } from '../snapshot/refresh-targets.js'
import { refreshWarmPools } from '../snapshot/refresh-warm-pools.js'
import { type RetentionSettings, retainTargets } from '../snapshot/retain-targets.js'
import {
  type PreparedTarget,
  prepareTargets,
  type PublishSettings,
  targetFailure,
  type TargetReport
} from '../snapshot/targets.js'
import type {
  CreatedSnapshot,
  RetentionResult,
  SnapshotCompletion,
  SnapshotSource
} from '../snapshot/types.js'
import { SnapshotFailedError, waitOrMarkFailed } from '../snapshot/wait.js'

export { prepareTargets }

export interface TakeSnapshotInput {
  source: SnapshotSource
  snapshot: SnapshotSpec
  /** Where it will be published: their ids go in its launch-template tag, for retention. */
  prepared: readonly PreparedTarget[]
  /** Wait for `completed` (required to publish); false returns it pending. */
  wait: boolean
  timeoutMs: number
  backoff?: Partial<Backoff>
  /** consistency: sync already ran on the host, at the end of its own command (deploy). */
  flushedOnHost?: boolean
  dryRun: boolean
  /** Called once the snapshot exists, before the wait (not under dry run: nothing exists). */
  onCreated?(snapshot: CreatedSnapshot): void
}

export interface TakenSnapshot {
  snapshot: CreatedSnapshot
  /** The last known state: pending, completed, error or dry-run. */
  state: string
  completion?: SnapshotCompletion
  /** Phase `wait`: it exists but did not complete (tagged failed if it ended in error). */
  failure?: Failure
}

/** Create, then wait. A failure to create throws: there is no snapshot to report. */
export async function takeSnapshot(
  clients: Pick<Clients, 'ec2' | 'ssm'>,
  input: TakeSnapshotInput,
  runtime: Runtime
): Promise<TakenSnapshot> {
  const { ec2 } = clients
  const launchTemplateId = launchTemplateTag(input.prepared.map((p) => p.template.id))
  const snapshot = await createCodeSnapshot(
    ec2,
    clients.ssm,
    {
      ...input.snapshot,
      source: input.source,
      dryRun: input.dryRun,
      ...(input.flushedOnHost ? { flushedOnHost: true } : {}),
      // Retention selects a template's snapshots by this tag.
      ...(launchTemplateId ? { launchTemplateId } : {})
    },
    runtime
  )
  const taken: TakenSnapshot = { snapshot, state: snapshot.state }
  if (input.dryRun) return taken
  input.onCreated?.(snapshot)
  if (!input.wait) return taken
  try {
    const wait = {
      timeoutMs: input.timeoutMs,
      ...(input.backoff ? { backoff: input.backoff } : {})
    }
    taken.completion = await waitOrMarkFailed(ec2, snapshot.snapshotId, wait, runtime)
    taken.state = 'completed'
  } catch (err) {
    if (err instanceof SnapshotFailedError) taken.state = 'error'
    taken.failure = { phase: 'wait', message: errorMessage(err) }
  }
  return taken
}

export interface PublishInput {
  /** Completed (or, under dry run, the one that would be). */
  snapshot: CreatedSnapshot
  prepared: readonly PreparedTarget[]
  /** How every target is published (its `targets` are the prepared ones, not read here). */
  settings: Omit<PublishSettings, 'targets'>
  /** Warm pools of the groups that pick up the new version; undefined: not looked at. */
  warmPools?: WarmPoolMode
  run: Provenance
  dryRun: boolean
  /**
   * Called once every target has its new version, before the refreshes and warm pools: from
   * then on the snapshot is in use (the deploy's journal stops holding it there).
   */
  onPublished?(targets: TargetReport[]): void
}

export interface PublishResult {
  /** One per prepared target, in order: each published, refreshed or failed on its own. */
  targets: TargetReport[]
  /** One per group whose warm pool was looked at (only with `warmPools`). */
  warmPools?: WarmPoolResult[]
  /** Phase `publish` or `refresh`: every failed target, by template when there are several. */
  failure?: Failure
}

/** A new version of every target, then instance refreshes and warm pools, if asked. */
export async function publishSnapshot(
  clients: Pick<Clients, 'ec2' | 'autoscaling'>,
  input: PublishInput,
  runtime: Runtime
): Promise<PublishResult> {
  const { settings, dryRun } = input
  const { log } = runtime
  const context = { run: input.run, dryRun, log }
  const targets = await publishToTargets(
    clients.ec2,
    input.snapshot,
    input.prepared,
    settings,
    context
  )
  input.onPublished?.(targets)
  const refresh = settings.instanceRefresh
  if (refresh) await refreshTargets(clients.autoscaling, targets, refresh, dryRun, runtime)
  const result: PublishResult = { targets }
  if (input.warmPools) {
    const mode = { mode: input.warmPools, dryRun, log }
    result.warmPools = await refreshWarmPools(
      clients.autoscaling,
      targets,
      mode,
      settings.setDefault
    )
  }
  const failure = targetFailure(targets)
  if (failure) result.failure = failure
  return result
}

export interface RetainInput {
  /** Never deleted: the snapshot just taken. */
  snapshot: CreatedSnapshot
  /** Retention per target's template; none: the snapshots named like this one. */
  prepared: readonly PreparedTarget[]
  retention: RetentionSettings
  dryRun: boolean
}

/** Retention over every target, as one result. Throws what stopped it. */
export async function retainSnapshots(
  clients: Pick<Clients, 'ec2'>,
  input: RetainInput,
  runtime: Runtime
): Promise<RetentionResult> {
  const context = { dryRun: input.dryRun, log: runtime.log }
  return retainTargets(clients.ec2, input.snapshot, input.prepared, input.retention, context)
}

export interface PublishFlowOptions {
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

export interface PublishFlowResult extends TakenSnapshot {
  /** One per publish target, in the order given. */
  targets: TargetReport[]
  retention?: RetentionResult
  /** One per group whose warm pool was looked at (only with publish and warmPools). */
  warmPools?: WarmPoolResult[]
  /** Phase wait, publish, refresh or retention; what was done before it is reported. */
  failure?: Failure
  dryRun: boolean
}

/** The snapshot action: prepare, take, publish (if asked), retain. */
export async function runPublishFlow(
  clients: Clients,
  options: PublishFlowOptions,
  runtime: Runtime
): Promise<PublishFlowResult> {
  const { dryRun, publish } = options
  if (publish && !options.wait && !dryRun) {
    // Instances cannot launch from a snapshot that has not completed.
    throw new ActionError('Publishing a snapshot needs wait: true.')
  }
  const prepared = publish ? await prepareTargets(clients, publish) : []
  const { source, snapshot: spec, wait, timeoutMs } = options
  const input = { source, snapshot: spec, prepared, wait, timeoutMs, dryRun }
  const taken = await takeSnapshot(clients, input, runtime)
  const result: PublishFlowResult = {
    ...taken,
    targets: prepared.map(({ template, groups }) => ({ template, groups, refreshes: [] })),
    dryRun
  }
  if (result.failure) return abandon(clients, result, !!publish)
  if (publish && prepared.length) {
    const { run } = spec
    const warmPools = options.warmPools ? { warmPools: options.warmPools } : {}
    const publishInput = { snapshot: taken.snapshot, prepared, settings: publish, run, dryRun }
    const published = await publishSnapshot(clients, { ...publishInput, ...warmPools }, runtime)
    result.targets = published.targets
    if (published.warmPools) result.warmPools = published.warmPools
    if (published.failure) {
      const failed = { ...result, failure: published.failure }
      const none = !published.targets.some((t) => t.published && !t.published.dryRun)
      return none ? abandon(clients, failed, true) : failed
    }
  }
  try {
    const retain = { snapshot: taken.snapshot, prepared, retention: options.retention, dryRun }
    result.retention = await retainSnapshots(clients, retain, runtime)
  } catch (err) {
    result.failure = { phase: 'retention', message: errorMessage(err) }
  }
  return result
}

/**
 * A snapshot made for a template that nothing will publish (its wait timed out or was cancelled,
 * or no target took it): tagged failed with the reason, as the deploy does, so retention does not
 * keep it for days as `pending` (a snapshot that ended in error is tagged already).
 */
async function abandon(
  clients: Pick<Clients, 'ec2'>,
  result: PublishFlowResult,
  forTemplate: boolean
): Promise<PublishFlowResult> {
  const { snapshot, failure } = result
  if (!forTemplate || result.dryRun || result.state === 'error' || !snapshot.snapshotId)
    return result
  await markSnapshotFailed(clients.ec2, snapshot.snapshotId, failure?.message)
  return { ...result, state: 'failed' }
}
