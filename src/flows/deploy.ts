/**
 * deploy: the whole pipeline in one process, composed of the rollout and publish steps.
 *
 *   resolve (hosts, targets, locks, read-only checks)
 *   -> rollout (run-once, canary, waves)
 *        `-- as soon as the primary succeeded: snapshot its code volume, and let the
 *            snapshot complete while the other waves run
 *   -> publish, only if the whole fleet succeeded
 *   -> catch-up: instances launched meanwhile from the old version get the rollout
 *      (after a publish that failed, they are only named: the step fails)
 *   -> retention
 *
 * Each phase returns what it made; the run holds what it takes in one journal, and whatever
 * ends it, everything still held is settled (src/held): commands cancelled, hosts registered
 * again, a snapshot never published tagged failed (or deleted, on-failure), the locks freed.
 */
import type { Clients } from '../aws/clients.js'
import type { DeployContext } from '../deploy/context.js'
import { catchUpPhase, publishFailedPhase } from '../deploy/catch-up-phase.js'
import { Phases } from '../deploy/phases.js'
import { publishPhase, retentionPhase } from '../deploy/publish.js'
import { resolveDeploy } from '../deploy/resolve.js'
import { rollbackToPhase } from '../deploy/rollback-to.js'
import { rolloutPhase, type RolledOut } from '../deploy/rollout.js'
import type { DeployOptions, DeployResult } from '../deploy/types.js'
import { errorMessage } from '../errors.js'
import type { Failure } from '../model/failure.js'
import { holding } from '../held/holding.js'
import { type Journal, mapStateProvider, type StateProvider } from '../held/journal.js'
import type { Settled } from '../held/settle.js'
import { LockKeepers } from '../held/lock-keeper.js'
import { deploySettlers, type Unpublished } from '../held/publish-settlers.js'
import { withPackedRelease } from '../release/ship.js'
import type { Runtime } from '../runtime.js'

export async function runDeploy(
  clients: Clients,
  options: DeployOptions,
  runtime: Runtime,
  state: StateProvider = mapStateProvider()
): Promise<DeployResult> {
  const phases = new Phases(runtime.clock)
  const keepers = new LockKeepers()
  try {
    // On the runner, before any AWS call: a wrong artifact path fails here.
    return await withPackedRelease(options.release?.settings, async (artifact) => {
      const { value, settled } = await holding(
        state,
        runtime.log,
        (result, err) =>
          deploySettlers(clients, unpublished(options, phases, result, err), keepers),
        (journal: Journal) =>
          deploy({
            clients,
            options,
            runtime,
            journal,
            phases,
            keepers,
            ...(artifact ? { artifact } : {})
          })
      )
      return withSettled(value, settled, options)
    })
  } finally {
    // A lock that could not be freed stays, without a heartbeat: the next run takes it over.
    await keepers.stop()
  }
}

async function deploy(ctx: DeployContext): Promise<DeployResult> {
  const { options, phases } = ctx
  const resolved = await phases.run('resolve', () => resolveDeploy(ctx))
  const { hosts, preflight, locks, prepared } = resolved
  const rolled = await phases.run('rollout', () =>
    options.rollbackTo ? rollbackToPhase(ctx, resolved) : rolloutPhase(ctx, resolved)
  )
  const alarms = resolved.guard.report()
  const base = {
    ...{ hosts, preflight, locks, settled: [], phases, dryRun: options.dryRun },
    ...(alarms ? { alarms } : {})
  }
  const { failure, snapshot: taken } = rolled
  let result: DeployResult = { ...base, ...rolledOut(rolled), ok: false }
  if (failure || !taken.snapshot) return { ...result, ...(failure ? { failure } : {}) }
  const published = await phases.run('publish', () => publishPhase(ctx, taken.snapshot!, prepared))
  result = { ...result, publish: published }
  // A version not made: no catch-up, the instances launched meanwhile are only named.
  if (published.failure && published.targets.some((t) => t.failure?.phase === 'publish')) {
    const left = await publishFailedPhase(ctx, resolved, published.targets, published.failure)
    return { ...result, ...left }
  }
  if (!options.dryRun) {
    const targets = published.targets
    const caught = await phases.run('catch-up', () => catchUpPhase(ctx, resolved, rolled, targets))
    // Again: catch-up's hosts join the traffic timings and the releases.
    result = { ...result, ...rolledOut(rolled), ...caught, publish: published }
  }
  // Published, but an instance refresh failed: caught up all the same, and the step fails.
  if (published.failure) return { ...result, failure: refreshFailed(published.failure, result) }
  const retained = await phases.run('retention', () => retentionPhase(ctx, published, prepared))
  return { ...result, publish: retained, ok: !result.failure }
}

/** The refresh's failure, and catch-up's if it failed too. */
function refreshFailed(failure: Failure, result: DeployResult): Failure {
  const also = result.failure ? `; ${result.failure.message}` : ''
  return { phase: failure.phase, message: `${failure.message}${also}` }
}

/** The rollout phase's part of the result; the traffic timings as far as the run got. */
function rolledOut(rolled: RolledOut): Partial<DeployResult> {
  const { session } = rolled
  return {
    rollout: rolled.rollout,
    ...(rolled.rollback ? { rollback: rolled.rollback } : {}),
    ...(rolled.release ? { release: rolled.release } : {}),
    ...(rolled.snapshot.snapshot ? { publish: rolled.snapshot.snapshot } : {}),
    ...(session.plan.targetGroups.length
      ? { traffic: { plan: session.plan, hosts: session.trafficHosts() } }
      : {})
  }
}

/**
 * What becomes of a snapshot never published: on-failure once the rollout itself failed
 * (or threw), else tagged failed with the reason.
 */
function unpublished(
  options: DeployOptions,
  phases: Phases,
  result: DeployResult | undefined,
  err: unknown
): Unpublished {
  const failedPhase = result ? result.failure?.phase : phases.threw
  const reason = result
    ? (result.failure?.message ?? 'the deploy ended before publishing it')
    : errorMessage(err)
  return { reason, snapshot: failedPhase === 'rollout' ? options.onFailure : 'tag' }
}

/** The settled list, and the snapshot's final state once settled (failed or deleted). */
function withSettled(
  result: DeployResult,
  settled: Settled[],
  options: DeployOptions
): DeployResult {
  const publish = result.publish
  const gone = settled.find((s) => s.ok && s.held.kind === 'snapshot')
  if (!publish || !gone) return { ...result, settled }
  const state = unpublished(options, result.phases, result, undefined).snapshot
  return {
    ...result,
    settled,
    publish: { ...publish, state: state === 'delete' ? 'deleted' : 'failed' }
  }
}
