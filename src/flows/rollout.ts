/**
 * The rollout flow, as the rollout action runs it: where a rollback would return to, the
 * artifact (packed on the runner), the hosts and their traffic plan, all read before anything
 * changes; then the rollout through one session (journal, traffic steps, terminated hosts), and,
 * when it failed, the way back on the hosts that started: the release switch back when it
 * shipped one, else rollback-commands. `rollback-to` instead switches every host to a release
 * it holds. Whatever ends it, what the run still holds is settled by the same settlers the
 * deploy and the post steps use.
 */
import { RolloutGuard } from '../alarms/guard.js'
import type { AlarmReport, AlarmSettings } from '../alarms/types.js'
import type { Clients } from '../aws/clients.js'
import type { StateProvider } from '../held/journal.js'
import { holding } from '../held/holding.js'
import type { Settled } from '../held/settle.js'
import { rolloutSettlers } from '../held/settlers.js'
import { findHosts, type HostSelection } from '../hosts/find.js'
import type { Host } from '../hosts/host.js'
import type { PreviousRelease } from '../model/release.js'
import type { RollbackTarget } from '../release/release-id.js'
import type { ReleaseOptions } from '../release/rollout-scripts.js'
import { type ReleaseSettings, withPackedRelease } from '../release/ship.js'
import type { Artifact } from '../release/artifact.js'
import { describePlan } from '../report/traffic.js'
import {
  commandsRollback,
  type RollbackResult,
  type RollbackSettings
} from '../rollout/rollback.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import { orderHosts, planTraffic, type TrafficPlan, type TrafficSettings } from '../traffic/plan.js'
import { targetHealthCheck } from '../traffic/health-check.js'
import type { HostTraffic } from '../traffic/rollout.js'
import { readPreviousRelease, type PreviousSource } from './previous.js'
import { releaseRollout, type ReleaseRun, rollbackToRollout } from './release-rollout.js'
import { RolloutSession } from './rollout-session.js'

export interface RolloutFlowOptions {
  hosts: HostSelection
  /** The rollout, but for its targets (the hosts found). */
  rollout: Omit<RolloutOptions, 'instanceIds'>
  traffic: TrafficSettings
  /** rollback-commands, run on every host that started when the rollout fails. */
  rollback?: RollbackSettings
  /** Where a rollback returns to: the code this template's default version maps. */
  previousFrom?: PreviousSource
  /** Ship this artifact as a release: built once, fetched by every host, switched atomically. */
  release?: ReleaseOptions
  /** Switch every host to a release it holds, instead of deploying (`rollback-to`). */
  rollbackTo?: { target: RollbackTarget; settings: ReleaseSettings }
  /** CloudWatch alarms: checked before any change, watched during the rollout and the bakes. */
  alarms?: AlarmSettings
  /** Waited after the canary and after the last host, with the alarms watched. */
  bakeTimeMs?: number
}

export interface RolloutFlowResult {
  hosts: Host[]
  plan: TrafficPlan
  rollout: RolloutResult
  rollback?: RollbackResult
  /** The release shipped, and what `current` names on each host after its script. */
  release?: ReleaseRun
  /** How long each host was out of service. */
  traffic: HostTraffic[]
  /** What the run still held when it ended, and what became of each. */
  settled: Settled[]
  /** The alarms and bakes, when alarms or a bake time were given. */
  alarms?: AlarmReport
}

type Outcome = Pick<RolloutFlowResult, 'rollout' | 'rollback' | 'release'>

export async function runRolloutFlow(
  clients: Clients,
  options: RolloutFlowOptions,
  runtime: Runtime,
  state: StateProvider
): Promise<RolloutFlowResult> {
  // On the runner, before any AWS call: a wrong artifact path fails here.
  return withPackedRelease(options.release?.settings, (artifact) =>
    rolloutFlow(clients, options, runtime, state, artifact)
  )
}

async function rolloutFlow(
  clients: Clients,
  options: RolloutFlowOptions,
  runtime: Runtime,
  state: StateProvider,
  artifact: Artifact | undefined
): Promise<RolloutFlowResult> {
  const { log } = runtime
  // Read-only, before anything changes: where a rollback would return to, the hosts, the plan.
  const previous: PreviousRelease = options.previousFrom
    ? await readPreviousRelease(clients.ec2, options.previousFrom, log)
    : { commit: '', snapshotId: '' }
  const ship =
    options.release && artifact
      ? releaseRollout(clients, options.release, artifact, runtime)
      : undefined
  const found = await findHosts(clients, options.hosts, log)
  const plan = await planTraffic(clients, found, options.traffic, {
    maxConcurrency: options.rollout.maxConcurrency,
    log
  })
  // With unhealthy-first, the hosts that serve nothing lead.
  const hosts = orderHosts(plan, found)
  for (const line of describePlan(plan)) log.info(line)
  // A rollback-to is what an alarm calls for: the alarms never hold it back.
  const watched = options.rollbackTo ? { ...options, alarms: undefined, bakeTimeMs: 0 } : options
  const { guard } = await RolloutGuard.preflight(
    clients.cloudwatch,
    guardOptions(clients, watched, plan, hosts),
    runtime
  )
  let session: RolloutSession | undefined
  const { value, settled } = await holding(
    state,
    log,
    () => rolloutSettlers(clients),
    async (journal): Promise<Outcome> => {
      const current = new RolloutSession(clients, journal, runtime, plan, hosts)
      session = current
      const instanceIds = hosts.map((h) => h.instanceId)
      const roll = (o: RolloutOptions) =>
        guarded(guard, o.dryRun, () => current.run(o, guard.hooks()))
      const run = { session: current, options: { ...options.rollout, instanceIds }, runtime, roll }
      if (options.rollbackTo) return rollbackToRollout(clients, run, options.rollbackTo)
      if (ship) return ship(run)
      const rollout = await roll(run.options)
      if (rollout.ok || rollout.dryRun || !options.rollback) return { rollout }
      const back = commandsRollback(options.rollback, previous)
      return { rollout, rollback: await current.rollBack(rollout, options.rollout, back) }
    }
  )
  const alarms = guard.report()
  const traffic = session?.trafficHosts() ?? []
  return { hosts, plan, ...value, traffic, settled, ...(alarms ? { alarms } : {}) }
}

/** The rollout, watched by the guard from its first host to the end of the last bake. */
export async function guarded(
  guard: RolloutGuard,
  dryRun: boolean,
  rollout: () => Promise<RolloutResult>
): Promise<RolloutResult> {
  if (!dryRun) guard.start()
  try {
    return await guard.afterLast(await rollout())
  } finally {
    await guard.stop()
  }
}

function guardOptions(
  clients: Clients,
  options: RolloutFlowOptions,
  plan: TrafficPlan,
  hosts: readonly Host[]
) {
  return {
    ...(options.alarms ? { alarms: options.alarms } : {}),
    ...(options.bakeTimeMs ? { bakeTimeMs: options.bakeTimeMs } : {}),
    // A rollout polled at a test's pace watches its alarms at that pace too.
    ...(options.rollout.backoff ? { backoff: options.rollout.backoff } : {}),
    ...(plan.targetGroups.length ? { health: targetHealthCheck(clients.elbv2, plan, hosts) } : {})
  }
}
