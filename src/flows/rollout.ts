/**
 * The rollout flow, as the rollout action runs it: where a rollback would return to and the hosts
 * and their traffic plan, all read before anything changes; then the rollout through one session
 * (journal, traffic steps, terminated hosts), and rollback-commands on the hosts that started when
 * it failed. Whatever ends it, what the run still holds (commands running, hosts out of service)
 * is settled by the same settlers the deploy and the post steps use.
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
import { describePlan } from '../report/traffic.js'
import type { RollbackResult, RollbackSettings } from '../rollout/rollback.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import { readPreviousRelease, type PreviousSource } from './previous.js'
import { planTraffic, type TrafficPlan, type TrafficSettings } from '../traffic/plan.js'
import { targetHealthCheck } from '../traffic/health-check.js'
import type { HostTraffic } from '../traffic/rollout.js'
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
  /** How long each host was out of service. */
  traffic: HostTraffic[]
  /** What the run still held when it ended, and what became of each. */
  settled: Settled[]
  /** The alarms and bakes, when alarms or a bake time were given. */
  alarms?: AlarmReport
}

export async function runRolloutFlow(
  clients: Clients,
  options: RolloutFlowOptions,
  runtime: Runtime,
  state: StateProvider
): Promise<RolloutFlowResult> {
  const { log } = runtime
  // Read-only, before anything changes: where a rollback would return to, the hosts, the plan.
  const previous: PreviousRelease = options.previousFrom
    ? await readPreviousRelease(clients.ec2, options.previousFrom, log)
    : { commit: '', snapshotId: '' }
  const hosts = await findHosts(clients, options.hosts, log)
  const plan = await planTraffic(clients, hosts, options.traffic, {
    maxConcurrency: options.rollout.maxConcurrency,
    log
  })
  for (const line of describePlan(plan)) log.info(line)
  const { guard } = await RolloutGuard.preflight(
    clients.cloudwatch,
    guardOptions(clients, options, plan, hosts),
    runtime
  )
  const { value, settled } = await holding(
    state,
    log,
    () => rolloutSettlers(clients),
    async (journal) => {
      const session = new RolloutSession(clients, journal, runtime, plan, hosts)
      const instanceIds = hosts.map((h) => h.instanceId)
      const rollout = await guarded(guard, options.rollout.dryRun, () =>
        session.run({ ...options.rollout, instanceIds }, guard.hooks())
      )
      const rollback =
        !rollout.ok && !rollout.dryRun && options.rollback
          ? await session.rollBack(rollout, options.rollout, options.rollback, previous)
          : undefined
      return { rollout, ...(rollback ? { rollback } : {}), traffic: session.trafficHosts() }
    }
  )
  const alarms = guard.report()
  return { hosts, plan, ...value, settled, ...(alarms ? { alarms } : {}) }
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
