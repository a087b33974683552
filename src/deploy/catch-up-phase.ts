/**
 * The catch-up phase: instances launched meanwhile booted from the old version, so they get the
 * same rollout, through the same session (traffic steps, journal); then the last look at each
 * template's default (still-default.ts). Whatever it leaves, the new version is published:
 * retention still runs after it.
 */
import { recordReleases } from '../flows/release-rollout.js'
import type { Failure } from '../model/failure.js'
import type { TargetReport } from '../snapshot/targets.js'
import { catchUp, type CatchUpResult } from './catch-up.js'
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
  // Every group's members: any launched meanwhile from a version that boots another snapshot.
  const snapshotId = targets.find((t) => t.published?.version !== undefined)?.published?.snapshotId
  const caught = await catchUp(
    clients,
    {
      query: options.query,
      known: new Set(resolved.hosts.map((h) => h.instanceId)),
      code: snapshotId ? { snapshotId, device: options.device } : undefined,
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

function caughtUpFailure(caught: CatchUpResult): Failure | undefined {
  const message = caught.cancelled
    ? `Cancelled during catch-up: the fleet is deployed and the snapshot published, but these instances launched meanwhile may run old code: ${caught.failed.map((f) => f.instanceId).join(' ') || 'none'}`
    : caught.failed.length
      ? `Instances launched during the deploy could not be caught up and may run old code: ${caught.failed.map((f) => `${f.instanceId} (${f.reason})`).join('; ')}`
      : undefined
  return message ? { phase: 'catch-up', message } : undefined
}
