/** What every phase of one deploy reads (never writes): phases return what they made. */
import type { RolloutGuard } from '../alarms/guard.js'
import type { Clients } from '../aws/clients.js'
import type { Artifact } from '../release/artifact.js'
import type { Journal } from '../held/journal.js'
import type { LockKeepers } from '../held/lock-keeper.js'
import type { PreparedTarget } from '../snapshot/targets.js'
import type { Host } from '../hosts/host.js'
import type { Runtime } from '../runtime.js'
import type { TrafficPlan } from '../traffic/plan.js'
import type { Phases } from './phases.js'
import type { DeployOptions } from './types.js'

export interface DeployContext {
  readonly clients: Clients
  readonly options: DeployOptions
  readonly runtime: Runtime
  /** Everything the run takes goes in here as it is taken (src/held). */
  readonly journal: Journal
  /** The heartbeats of the locks taken, which also write the journal into them. */
  readonly keepers: LockKeepers
  readonly phases: Phases
  /** The release's artifact, packed on the runner before anything else (deleted at the end). */
  readonly artifact?: Artifact
}

/** The resolve phase's answer: hosts, targets, locks and the checks, before any change. */
export interface Resolved {
  /** In the rollout's order: with unhealthy-first, those serving nothing lead (the primary). */
  hosts: Host[]
  /** The load-balancer plan, read before any change (the health after the lock). */
  plan: TrafficPlan
  prepared: PreparedTarget[]
  preflight: string[]
  locks: string[]
  /** The alarms (checked quiet before any change) and bake time, for the rollout phase. */
  guard: RolloutGuard
}
