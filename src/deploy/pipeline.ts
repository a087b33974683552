/**
 * deploy: the whole pipeline in one process, holding the state three separate steps cannot.
 *
 *   resolve (hosts, targets, read-only checks)
 *   -> rollout (run-once, canary, waves)
 *        `-- as soon as the primary succeeded: snapshot its code volume, and let the
 *            snapshot complete while the other waves run
 *   -> publish, only if the whole fleet succeeded
 *   -> catch-up: instances launched meanwhile from the old version get the rollout
 *   -> retention
 *
 * Two deploys of one launch template never overlap: the resolve phase takes the template's
 * deploy lock (lock.ts) before reading its default version.
 *
 * The phases (steps.ts) run in one loop with one exit; a `finally` releases whatever the
 * journal still holds (running commands, a snapshot never published), on every path.
 */
import type { Clients } from '../aws/clients.js'
import { errorMessage } from '../errors.js'
import type { Host } from '../hosts/host.js'
import type { HostQuery } from '../hosts/resolve.js'
import type { RollbackResult, RollbackSettings } from '../rollout/rollback.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import type { SnapshotSpec } from '../snapshot/create.js'
import type { RetentionSettings } from '../snapshot/retain-targets.js'
import type {
  PreparedTarget,
  PublishSettings,
  PublishTarget,
  TargetReport
} from '../snapshot/targets.js'
import type { WarmPoolMode, WarmPoolResult } from '../snapshot/ops/warm-pool.js'
import type { CreatedSnapshot, RetentionResult, SnapshotCompletion } from '../snapshot/types.js'
import type { TrafficPlan, TrafficSettings } from '../traffic/plan.js'
import type { HostTraffic, TrafficRollout } from '../traffic/rollout.js'
import type { CatchUpResult } from './catch-up.js'
import { Journal, mapStateProvider, type StateProvider } from './journal.js'
import { Phases } from './phases.js'
import type { LockSettings } from './lock.js'
import { lockReleaser } from './release-lock.js'
import { commandReleaser, releaseHeld, type Released } from './release.js'
import { snapshotReleaser } from './release-snapshot.js'
import { trafficReleaser } from './release-traffic.js'
import { DEPLOY_PHASES } from './steps.js'

export interface DeployOptions {
  query: HostQuery
  /** The rollout, but for its targets (resolved here). */
  rollout: Omit<RolloutOptions, 'instanceIds'>
  /** The code volume's device on the primary, and the device each template maps. */
  device: string
  /** The snapshot of the primary's code volume, and how long it may take to complete. */
  snapshot: SnapshotSpec & { timeoutMs: number }
  publish: Omit<PublishSettings, 'targets' | 'device'> & { targets: readonly DeployTarget[] }
  retention: RetentionSettings
  /** A failed rollout's snapshot: tagged failed (kept for inspection) or deleted. */
  onFailure: 'tag' | 'delete'
  catchUp: { maxRounds: number; readyTimeoutMs: number }
  /** Warm pools of the groups that pick up the new version; undefined: not looked at. */
  warmPools?: WarmPoolMode
  /** The deploy lock per template (lock.ts); undefined: none is taken (unit tests of parts). */
  lock?: LockSettings
  dryRun: boolean
  /** Load balancers: unset leaves traffic alone (as `target-groups: none`). */
  traffic?: TrafficSettings
  /** rollback-commands: run on every host that started when the rollout fails. */
  rollback?: RollbackSettings
}

/** A publish target whose template may be left to the deploy to find. */
export type DeployTarget = Omit<PublishTarget, 'launchTemplate'> & {
  /**
   * Undefined: each distinct template the asg-name groups launch from (deploy/templates.ts),
   * else the one the primary was launched from.
   */
  launchTemplate?: string
}

export type DeployClients = Clients

export interface DeployResult {
  ok: boolean
  /** What failed, for the step's message. */
  failure?: string
  hosts: Host[]
  rollout?: RolloutResult
  snapshot?: CreatedSnapshot
  /** pending, completed, error, failed (never published), deleted, dry-run. */
  snapshotState?: string
  completion?: SnapshotCompletion
  /** The pre-flight checks passed, one line each. */
  preflight?: string[]
  /** The targets, their templates and groups, read before anything changed. */
  prepared?: PreparedTarget[]
  /** One per target, once published (or failed to). */
  targets?: TargetReport[]
  /** Per group that picks up the new version and has a warm pool. */
  warmPools?: WarmPoolResult[]
  catchUp?: CatchUpResult
  retention?: RetentionResult
  /** The load-balancer plan, and how long each host was out of service. */
  traffic?: { plan: TrafficPlan; hosts: HostTraffic[] }
  /** The rollback, when the rollout failed and rollback-commands was given. */
  rollback?: RollbackResult
  /** The deploy locks taken (or, in a dry run, who holds them), one line each. */
  locks: string[]
  /** What the run still held when it ended, and what became of each. */
  released: Released[]
  phases: Phases
  dryRun: boolean
}

/** One deploy in progress: what every phase reads and writes. */
export interface DeployRun {
  readonly clients: DeployClients
  readonly options: DeployOptions
  readonly runtime: Runtime
  readonly journal: Journal
  readonly phases: Phases
  readonly result: DeployResult
  prepared: PreparedTarget[]
  /** The snapshot beside the rollout, and how it failed. */
  snapshotTask?: Promise<void>
  snapshotError?: unknown
  /** The traffic steps around each host, when the hosts sit behind target groups. */
  traffic?: TrafficRollout
  /** What becomes of a snapshot never published: on-failure once the rollout failed. */
  settle: 'tag' | 'delete'
}

export async function runDeploy(
  clients: DeployClients,
  options: DeployOptions,
  runtime: Runtime,
  state: StateProvider = mapStateProvider()
): Promise<DeployResult> {
  const phases = new Phases(runtime.clock)
  const run: DeployRun = {
    clients,
    options,
    runtime,
    journal: Journal.start(state),
    phases,
    result: { ok: false, hosts: [], locks: [], released: [], phases, dryRun: options.dryRun },
    prepared: [],
    settle: 'tag'
  }
  try {
    for (const phase of DEPLOY_PHASES) {
      if (phase.skip?.(run)) continue
      if (!(await phases.run(phase.name, () => phase.run(run)))) break
    }
    run.result.ok = !run.result.failure
    return run.result
  } catch (err) {
    run.result.failure ??= errorMessage(err)
    throw err
  } finally {
    await release(run)
  }
}

/** Whatever ended the run: cancel what still runs, settle a snapshot never published. */
async function release(run: DeployRun): Promise<void> {
  const { result, runtime } = run
  const released = await releaseHeld(run.journal, {
    command: commandReleaser(run.clients.ssm),
    lock: lockReleaser(run.clients.ssm),
    snapshot: snapshotReleaser(run.clients.ec2, {
      reason: result.failure ?? 'the deploy ended before publishing it',
      settle: run.settle
    }),
    'out-of-service': trafficReleaser(run.clients.elbv2)
  })
  result.released = released
  for (const r of released) {
    if (!r.ok) runtime.log.warning(r.outcome)
    else runtime.log.info(r.outcome)
    if (r.ok && r.held.kind === 'snapshot')
      result.snapshotState = run.settle === 'delete' ? 'deleted' : 'failed'
  }
}
