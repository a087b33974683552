/**
 * The catch-up phase: instances launched meanwhile booted from the old version, so they get the
 * same rollout, through the same session (traffic steps, journal); then the last look at each
 * template's default (still-default.ts). Whatever it leaves, the new version is published:
 * retention still runs after it.
 */
import { errorMessage } from '../errors.js'
import { recordReleases } from '../flows/release-rollout.js'
import type { Failure } from '../model/failure.js'
import type { TargetReport } from '../snapshot/targets.js'
import { catchUp, type CatchUpResult, leftOnOldCode } from './catch-up.js'
import type { DeployContext, Resolved } from './context.js'
import type { RolledOut } from './rollout.js'
import { stillDefault } from './still-default.js'

export async function catchUpPhase(
  ctx: DeployContext,
  resolved: Resolved,
  rolled: RolledOut,
  targets: readonly TargetReport[]
): Promise<{ catchUp: CatchUpResult; failure?: Failure }> {
  const { clients, options, runtime } = ctx
  const caught = await catchUp(
    clients,
    {
      ...launchedMeanwhile(ctx, resolved, targets),
      readyTimeoutMs: options.catchUp.readyTimeoutMs,
      maxRounds: options.catchUp.maxRounds,
      rollout: (ids) =>
        rolled.session.run({
          ...rolled.options,
          runOnceScript: undefined,
          canary: 0,
          instanceIds: ids
        })
    },
    runtime
  )
  if (rolled.release) {
    // Instances caught up run the release too: the fleet at a glance includes them.
    const more = await recordReleases(clients, caught.rollouts, options.dryRun, runtime)
    Object.assign(rolled.release.hosts, more)
  }
  // The last look: a default someone else moved after the publish fails the step too.
  const moved = await stillDefault(clients.ec2, targets)
  const failure = caughtUpFailure(caught) ?? moved
  return { catchUp: caught, ...(failure ? { failure } : {}) }
}

/**
 * After a publish (or its instance refresh) that failed, part-way or not, there is no
 * catch-up: the instances launched meanwhile keep the old code, and the failure names them.
 */
export async function publishFailedPhase(
  ctx: DeployContext,
  resolved: Resolved,
  targets: readonly TargetReport[],
  failure: Failure
): Promise<{ catchUp?: CatchUpResult; failure: Failure }> {
  const reason = `not deployed to: the ${failure.phase} failed`
  try {
    const left = await leftOnOldCode(
      ctx.clients,
      launchedMeanwhile(ctx, resolved, targets),
      reason,
      ctx.runtime.log
    )
    const ids = left.failed.map((f) => f.instanceId)
    if (!ids.length) return { catchUp: left, failure }
    const message = `${failure.message}. Instances launched during the deploy stay on old code: ${ids.join(' ')} (deploy again to reach them)`
    return { catchUp: left, failure: { ...failure, message } }
  } catch (err) {
    const message = `${failure.message}. Could not look for instances launched during the deploy, which may run old code: ${errorMessage(err)}`
    return { failure: { ...failure, message } }
  }
}

/**
 * What catch-up looks at: every group's members not handled yet, judged by the snapshot a
 * target's new version boots (none published: every one of them has old code).
 */
function launchedMeanwhile(
  ctx: DeployContext,
  resolved: Resolved,
  targets: readonly TargetReport[]
) {
  const snapshotId = targets.find((t) => t.published?.version !== undefined)?.published?.snapshotId
  return {
    query: ctx.options.query,
    known: new Set(resolved.hosts.map((h) => h.instanceId)),
    code: snapshotId ? { snapshotId, device: ctx.options.device } : undefined
  }
}

function caughtUpFailure(caught: CatchUpResult): Failure | undefined {
  const message = caught.cancelled
    ? `Cancelled during catch-up: the fleet is deployed and the snapshot published, but these instances launched meanwhile may run old code: ${caught.failed.map((f) => f.instanceId).join(' ') || 'none'}`
    : caught.failed.length
      ? `Instances launched during the deploy could not be caught up and may run old code: ${caught.failed.map((f) => `${f.instanceId} (${f.reason})`).join('; ')}`
      : undefined
  return message ? { phase: 'catch-up', message } : undefined
}
