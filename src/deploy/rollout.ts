/**
 * The deploy's rollout phase: the traffic plan, the release shipped (when the deploy has an
 * artifact), the rollout with the primary's snapshot started as soon as the primary is back and
 * healthy, and, when it failed, the way back on the hosts that started: the release switch back
 * when it shipped one, else rollback-commands. It answers what it made; a failure names its phase:
 * `rollout` (the rollout itself failed or was cancelled: on-failure decides what becomes of the
 * snapshot) or `snapshot`.
 */
import { errorMessage } from '../errors.js'
import { goneInstances } from '../hosts/gone.js'
import { type ReleaseRun, recordReleases, shipOrPlan } from '../flows/release-rollout.js'
import { RolloutSession } from '../flows/rollout-session.js'
import type { Failure } from '../model/failure.js'
import type { PreviousRelease } from '../model/release.js'
import { releaseScripts, switchBackScript } from '../release/rollout-scripts.js'
import type { ShippedRelease } from '../release/ship.js'
import {
  commandsRollback,
  describeRollback,
  type RollbackPlan,
  type RollbackResult
} from '../rollout/rollback.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { HostResult, RolloutResult } from '../rollout/types.js'
import { previousRelease } from '../snapshot/ops/previous.js'
import { targetHealthCheck } from '../traffic/health-check.js'
import type { DeployContext, Resolved } from './context.js'
import { primaryFlush, SnapshotBeside, type SnapshotOutcome } from './snapshot.js'

export interface RolledOut {
  rollout: RolloutResult
  rollback?: RollbackResult
  snapshot: SnapshotOutcome
  /** The release shipped, and what `current` names on each host. */
  release?: ReleaseRun
  /** The session and the rollout's options, for catch-up (same steps, same scripts). */
  session: RolloutSession
  options: Omit<RolloutOptions, 'instanceIds'>
  failure?: Failure
}

export async function rolloutPhase(ctx: DeployContext, resolved: Resolved): Promise<RolledOut> {
  const { options, runtime, clients } = ctx
  const session = startSession(ctx, resolved)
  const previous = await readPrevious(ctx, resolved)
  const shipped =
    options.release && ctx.artifact
      ? await shipOrPlan(clients, options.release, ctx.artifact, options.dryRun, runtime)
      : undefined
  const base = shipped
    ? { ...options.rollout, ...releaseScripts(shipped, options.release!) }
    : options.rollout
  const snapshot = new SnapshotBeside(ctx, resolved.prepared, shipped?.id)
  const rolled = await rollOut(ctx, session, resolved, base, snapshot)
  const taken = await snapshot.outcome()
  const failure = rolloutFailure(ctx, rolled, taken, await primaryGone(ctx, rolled, taken))
  const back = failure ? rollbackPlan(ctx, shipped, previous) : undefined
  const rollback = back ? await session.rollBack(rolled, base, back) : undefined
  const release = shipped
    ? { id: shipped.id, uploaded: shipped.stored.uploaded, s3Requests: shipped.store.requests }
    : undefined
  const hosts = release
    ? await recordReleases(clients, [rolled, rollback?.rollout], options.dryRun, runtime)
    : undefined
  return {
    rollout: rolled,
    ...(rollback ? { rollback } : {}),
    snapshot: taken,
    ...(release ? { release: { ...release, hosts: hosts ?? {} } } : {}),
    session,
    options: base,
    ...(failure
      ? { failure: { ...failure, message: `${failure.message}${describeRollback(rollback)}` } }
      : {})
  }
}

/** The fleet's rollout, the snapshot started from the primary's success. */
async function rollOut(
  ctx: DeployContext,
  session: RolloutSession,
  resolved: Resolved,
  base: Omit<RolloutOptions, 'instanceIds'>,
  snapshot: SnapshotBeside
): Promise<RolloutResult> {
  const { guard } = resolved
  let rolled: RolloutResult
  if (!ctx.options.dryRun) guard.start()
  try {
    const flush = primaryFlush(ctx, base)
    const instanceIds = resolved.hosts.map((h) => h.instanceId)
    rolled = await session.run(
      { ...base, ...flush, instanceIds },
      {
        onPrimaryDone: (primary: HostResult) =>
          snapshot.start(primary.instanceId, flush.primaryLastScript !== undefined),
        // The code could never be published, or an alarm fired: no new host starts on it.
        shouldStop: () =>
          snapshot.error === undefined
            ? guard.stopReason()
            : `the snapshot failed, so nothing can be published: ${errorMessage(snapshot.error)}`,
        afterCanary: () => guard.afterCanary()
      }
    )
    // The bake after the last host, while the snapshot completes.
    rolled = (await Promise.all([guard.afterLast(rolled), snapshot.outcome()]))[0]
  } finally {
    // An AWS error stopped the rollout: the snapshot already started is never published.
    await Promise.all([snapshot.outcome(), guard.stop()])
  }
  if (ctx.options.dryRun && !snapshot.started && rolled.primaryInstanceId)
    snapshot.start(rolled.primaryInstanceId)
  return rolled
}

/** Behind target groups: the steps that take each host out of service around its commands. */
export function startSession(ctx: DeployContext, resolved: Resolved): RolloutSession {
  const { clients, options, runtime, journal } = ctx
  const { plan } = resolved
  if (plan.targetGroups.length)
    resolved.guard.watchHealth(targetHealthCheck(clients.elbv2, plan, resolved.hosts))
  const backoff = options.rollout.backoff
  return new RolloutSession(clients, journal, runtime, plan, resolved.hosts, backoff)
}

/** Where a rollback would return to, read before anything changes (only with a rollback). */
async function readPrevious(
  ctx: DeployContext,
  resolved: Resolved
): Promise<PreviousRelease | undefined> {
  const template = resolved.prepared[0]?.template
  if (!ctx.options.rollback || ctx.options.dryRun) return undefined
  if (!template) return { commit: '', snapshotId: '' }
  return previousRelease(ctx.clients.ec2, template, ctx.options.device, ctx.runtime.log)
}

/** Why nothing can be published, first cause first; undefined when the deploy goes on. */
function rolloutFailure(
  ctx: DeployContext,
  rolled: RolloutResult,
  taken: SnapshotOutcome,
  /** The primary was terminated after its commands, before its snapshot could be taken. */
  goneBeforeSnapshot: boolean
): Failure | undefined {
  const unchanged = "nothing was published; the launch template's default is unchanged."
  if (!rolled.ok && ctx.runtime.signal.aborted)
    // Said first: the snapshot's wait and the hosts' commands ended because of it, not on their own.
    return {
      phase: 'rollout',
      message: `The deploy was cancelled during the rollout: ${unchanged}`
    }
  const primary = rolled.results.find((r) => r.instanceId === rolled.primaryInstanceId)
  const gone = primary?.status === 'Terminated' || rolled.runOnce?.status === 'Terminated'
  // Said before the snapshot's own error ("no volume is attached"): the termination caused it.
  if (primary && (gone || goneBeforeSnapshot) && !taken.snapshot?.snapshot.snapshotId)
    return {
      phase: 'rollout',
      message: `The primary ${primary.instanceId} was terminated (scale-in or a spot reclaim) before its snapshot was taken, so ${unchanged} Instances launched to replace it boot the old code until a deploy succeeds: deploy again.`
    }
  if (!rolled.ok && taken.error !== undefined)
    return {
      phase: 'snapshot',
      message: `The snapshot failed, so the rollout stopped before any new host started and nothing was published: ${errorMessage(taken.error)}`
    }
  if (!rolled.ok)
    return {
      phase: 'rollout',
      message: `The rollout failed (${rolled.stoppedReason ?? 'see the hosts below'}): ${unchanged}`
    }
  if (taken.error !== undefined || !taken.snapshot)
    return {
      phase: 'snapshot',
      message: `The fleet is deployed, but the snapshot failed, so nothing was published and new instances would boot the old code: ${taken.error === undefined ? 'the primary never succeeded' : errorMessage(taken.error)}`
    }
  return undefined
}

/** Whether a snapshot that failed did so because the primary is gone (EC2 says so). */
async function primaryGone(
  ctx: DeployContext,
  rolled: RolloutResult,
  taken: SnapshotOutcome
): Promise<boolean> {
  const id = rolled.primaryInstanceId
  if (taken.error === undefined || !id || ctx.options.dryRun) return false
  return (await goneInstances(ctx.clients.ec2, [id])).has(id)
}

/** The way back: the release switch back when one was shipped, else rollback-commands. */
function rollbackPlan(
  ctx: DeployContext,
  shipped: ShippedRelease | undefined,
  previous: PreviousRelease | undefined
): RollbackPlan | undefined {
  if (ctx.options.dryRun) return undefined
  if (shipped && ctx.options.release) {
    const script = switchBackScript(shipped, ctx.options.release.settings)
    return { script, previous: previous ?? { commit: '', snapshotId: '' } }
  }
  const { rollback } = ctx.options
  if (!rollback || !previous) return undefined
  return commandsRollback(rollback, previous)
}
