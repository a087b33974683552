/**
 * The rollout flow, as the rollout action runs it: where a rollback would return to, the
 * artifact (packed on the runner), the hosts and their traffic plan, all read before anything
 * changes; then the rollout through one session (journal, traffic steps, terminated hosts), and,
 * when it failed, the way back on the hosts that started: the release switch back when it
 * shipped one, else rollback-commands. `rollback-to` instead switches every host to a release
 * it holds. Whatever ends it, what the run still holds is settled by the same settlers the
 * deploy and the post steps use.
 */
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
import type { ReleaseSettings } from '../release/ship.js'
import { describePlan } from '../report/traffic.js'
import {
  commandsRollback,
  type RollbackResult,
  type RollbackSettings
} from '../rollout/rollback.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import { planTraffic, type TrafficPlan, type TrafficSettings } from '../traffic/plan.js'
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
}

type Outcome = Pick<RolloutFlowResult, 'rollout' | 'rollback' | 'release'>

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
  const ship = options.release ? await releaseRollout(clients, options.release, runtime) : undefined
  const hosts = await findHosts(clients, options.hosts, log)
  const plan = await planTraffic(clients, hosts, options.traffic, {
    maxConcurrency: options.rollout.maxConcurrency,
    log
  })
  for (const line of describePlan(plan)) log.info(line)
  let session: RolloutSession | undefined
  const { value, settled } = await holding(
    state,
    log,
    () => rolloutSettlers(clients),
    async (journal): Promise<Outcome> => {
      session = new RolloutSession(clients, journal, runtime, plan, hosts)
      const instanceIds = hosts.map((h) => h.instanceId)
      const run = { session, options: { ...options.rollout, instanceIds }, runtime }
      if (options.rollbackTo) return rollbackToRollout(clients, run, options.rollbackTo)
      if (ship) return ship(run)
      const rollout = await session.run(run.options)
      if (rollout.ok || rollout.dryRun || !options.rollback) return { rollout }
      const back = commandsRollback(options.rollback, previous)
      return { rollout, rollback: await session.rollBack(rollout, options.rollout, back) }
    }
  )
  return { hosts, plan, ...value, traffic: session?.trafficHosts() ?? [], settled }
}
