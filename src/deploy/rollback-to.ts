/**
 * The deploy's `rollback-to`, in place of its rollout phase: every host switches `current` to a
 * release it holds and runs activate (no download, no build; a host that lacks a named release
 * fetches it again when the store still has it). Then later launches boot it too: the publish
 * maps the newest completed snapshot that holds that release, or, when none does, a new snapshot
 * of the primary, taken once it switched.
 */
import { recordReleases } from '../flows/release-rollout.js'
import type { Failure } from '../model/failure.js'
import { rollbackToScript } from '../release/rollout-scripts.js'
import { artifactStore, findRelease } from '../release/ship.js'
import type { RolloutResult } from '../rollout/types.js'
import { releaseSnapshot } from '../snapshot/ops/release-snapshot.js'
import type { DeployContext, Resolved } from './context.js'
import type { RolledOut } from './rollout.js'
import { startSession } from './rollout.js'
import { SnapshotBeside, type SnapshotOutcome } from './snapshot.js'

export async function rollbackToPhase(ctx: DeployContext, resolved: Resolved): Promise<RolledOut> {
  const { options, clients, runtime } = ctx
  const { target, settings } = options.rollbackTo!
  const session = startSession(ctx, resolved)
  const found =
    target.kind === 'release' && settings.store
      ? await findRelease(artifactStore(clients.s3, settings.store), target.id)
      : undefined
  const base = { ...options.rollout, script: rollbackToScript(target, settings, found) }
  delete base.runOnceScript
  const instanceIds = resolved.hosts.map((h) => h.instanceId)
  const rolled = await session.run({ ...base, instanceIds })
  const hosts = await recordReleases(clients, [rolled], options.dryRun, runtime)
  const id = target.kind === 'release' ? target.id : hosts[rolled.primaryInstanceId ?? '']
  const failure = switchFailure(rolled, id)
  const snapshot = failure || options.dryRun ? {} : await snapshotOf(ctx, resolved, rolled, id!)
  return {
    rollout: rolled,
    snapshot,
    ...(id ? { release: { id, hosts } } : { release: { hosts } }),
    session,
    options: base,
    ...(failure ? { failure } : {})
  }
}

function switchFailure(rolled: RolloutResult, id: string | undefined): Failure | undefined {
  const unchanged = "the launch template's default is unchanged."
  if (!rolled.ok)
    return {
      phase: 'rollout',
      message: `The switch back failed (${rolled.stoppedReason ?? 'see the hosts below'}): ${unchanged}`
    }
  if (!id && !rolled.dryRun)
    return {
      phase: 'rollout',
      message: `The primary did not say which release it switched to: ${unchanged}`
    }
  return undefined
}

/** The newest snapshot holding the release for the first template, else a new one of the primary. */
async function snapshotOf(
  ctx: DeployContext,
  resolved: Resolved,
  rolled: RolloutResult,
  id: string
): Promise<SnapshotOutcome> {
  const template = resolved.prepared[0]?.template.id
  const existing = template ? await releaseSnapshot(ctx.clients.ec2, id, template) : undefined
  if (existing) {
    ctx.runtime.log.info(
      `Release ${id} is in snapshot ${existing.snapshotId} already: it is published as it is.`
    )
    const targets = resolved.prepared.map(({ template: t, groups }) => ({
      template: t,
      groups,
      refreshes: []
    }))
    return { snapshot: { snapshot: existing, state: 'completed', targets, dryRun: false } }
  }
  const beside = new SnapshotBeside(ctx, resolved.prepared, id)
  beside.start(rolled.primaryInstanceId!)
  return beside.outcome()
}
