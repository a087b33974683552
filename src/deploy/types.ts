/** What the deploy is asked to do and what it answers; the flow is src/flows/deploy.ts. */
import type { AlarmReport, AlarmSettings } from '../alarms/types.js'
import type { Host } from '../hosts/host.js'
import type { HostQuery } from '../hosts/resolve.js'
import type { Settled } from '../held/settle.js'
import type { RollbackTarget } from '../release/release-id.js'
import type { ReleaseOptions } from '../release/rollout-scripts.js'
import type { ReleaseSettings } from '../release/ship.js'
import type { ReleaseRun } from '../flows/release-rollout.js'
import type { Failure } from '../model/failure.js'
import type { RollbackResult, RollbackSettings } from '../rollout/rollback.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { SnapshotSpec } from '../snapshot/create.js'
import type { RetentionSettings } from '../snapshot/retain-targets.js'
import type { PublishFlowResult } from '../flows/publish.js'
import type { PublishSettings, PublishTarget } from '../snapshot/targets.js'
import type { WarmPoolMode } from '../snapshot/ops/warm-pool.js'
import type { TrafficPlan, TrafficSettings } from '../traffic/plan.js'
import type { HostTraffic } from '../traffic/rollout.js'
import type { CatchUpResult } from './catch-up.js'
import type { Phases } from './phases.js'

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
  /** Ship this artifact as a release (its failed rollout switches back instead of rollback-commands). */
  release?: ReleaseOptions
  /** Instead of deploying: every host switches to this release, and the template boots it. */
  rollbackTo?: { target: RollbackTarget; settings: ReleaseSettings }
  /** CloudWatch alarms: checked before any change, watched during the rollout and the bakes. */
  alarms?: AlarmSettings
  /** Waited after the canary and after the last host (before publishing), alarms watched. */
  bakeTimeMs?: number
}

export interface LockSettings {
  /** How long to wait for another deploy of the same template; 0 fails at once. */
  timeoutMs: number
  /** The longest this run may hold it: its own time budget. */
  holdMs: number
  /**
   * Renew the lock every renewMs while the run lives; a lock not renewed for staleMs is a dead
   * run's, taken over after finishing its cleanup. Undefined: no heartbeat (unit tests of parts).
   */
  heartbeat?: { renewMs: number; staleMs: number }
}

/** A publish target whose template may be left to the deploy to find. */
export type DeployTarget = Omit<PublishTarget, 'launchTemplate'> & {
  /**
   * Undefined: each distinct template the asg-name groups launch from (deploy/templates.ts),
   * else the one the primary was launched from.
   */
  launchTemplate?: string
}

export interface DeployResult {
  ok: boolean
  /** What failed, for the step's message. */
  failure?: Failure
  hosts: Host[]
  /** The pre-flight checks passed, one line each. */
  preflight?: string[]
  /** The deploy locks taken (or, in a dry run, who holds them), one line each. */
  locks: string[]
  rollout?: RolloutResult
  /** The rollback, when the deploy failed and rollback-commands was given. */
  rollback?: RollbackResult
  /** The load-balancer plan, and how long each host was out of service. */
  traffic?: { plan: TrafficPlan; hosts: HostTraffic[] }
  /**
   * The snapshot and what became of it, as the snapshot action reports it (the publish flow's
   * result): its state, its targets (as read, then as published), warm pools and retention.
   */
  publish?: PublishFlowResult
  catchUp?: CatchUpResult
  /** The release shipped, and what `current` names on each host (catch-up's included). */
  release?: ReleaseRun
  /** The alarms and bakes, when alarms or a bake time were given. */
  alarms?: AlarmReport
  /** What the run still held when it ended, and what became of each. */
  settled: Settled[]
  phases: Phases
  dryRun: boolean
}
