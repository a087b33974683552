/**
 * The wiring every rollout of a run shares: the fleet's, a rollback's, each catch-up round's.
 * Each command goes into the journal as it is sent and is settled once its rollout ended; behind
 * target groups, each host leaves service (journalled before it is deregistered) and comes back
 * through the one traffic lifecycle, with max-concurrency capped by the plan's capacity; hosts
 * terminated mid-rollout are found through EC2.
 */
import type { Clients } from '../aws/clients.js'
import type { Journal } from '../held/journal.js'
import { journalTraffic } from '../held/traffic.js'
import type { Host } from '../hosts/host.js'
import { goneInstances } from '../hosts/gone.js'
import { rollBack, type RollbackPlan, type RollbackResult } from '../rollout/rollback.js'
import { type RolloutHooks, type RolloutOptions, runRollout } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import type { TrafficPlan } from '../traffic/plan.js'
import {
  type HostTraffic,
  limitRollout,
  trafficRollout,
  type TrafficRollout
} from '../traffic/rollout.js'

/** The hooks a caller may add; the session supplies the rest. */
export type ExtraHooks = Pick<RolloutHooks, 'onPrimaryDone' | 'shouldStop' | 'afterCanary'>

export class RolloutSession {
  private readonly traffic: TrafficRollout | undefined

  constructor(
    private readonly clients: Clients,
    private readonly journal: Journal,
    private readonly runtime: Runtime,
    readonly plan: TrafficPlan,
    /** Every host the fleet's rollout may start (their Auto Scaling lifecycle states). */
    hosts: readonly Host[],
    backoff?: RolloutOptions['backoff']
  ) {
    this.traffic = trafficRollout(clients.elbv2, plan, hosts, runtime, {
      ...journalTraffic(journal),
      ...(backoff ? { backoff } : {})
    })
  }

  /** One rollout, its commands in the journal until it has ended. */
  async run(options: RolloutOptions, extra: ExtraHooks = {}): Promise<RolloutResult> {
    const rolled = await runRollout(this.clients.ssm, this.limit(options), this.runtime, {
      ...this.hooks(),
      goneHosts: (ids) => goneInstances(this.clients.ec2, ids),
      ...extra
    })
    this.ended(rolled)
    return rolled
  }

  /** The rollback on every host that started, through the same traffic steps. */
  async rollBack(
    rolled: RolloutResult,
    options: Omit<RolloutOptions, 'instanceIds'>,
    plan: RollbackPlan
  ): Promise<RollbackResult> {
    const { ssm } = this.clients
    const limited = this.limit(options)
    const result = await rollBack(ssm, rolled, limited, plan, this.runtime, this.hooks())
    if (result.rollout) this.ended(result.rollout)
    return result
  }

  /** How long each host was out of service so far (empty without target groups). */
  trafficHosts(): HostTraffic[] {
    return this.traffic ? [...this.traffic.hosts.values()] : []
  }

  private limit<T extends Pick<RolloutOptions, 'maxConcurrency' | 'canary'>>(options: T): T {
    return this.traffic ? limitRollout(options, this.plan) : options
  }

  private hooks(): Pick<RolloutHooks, 'onCommandSent' | 'lifecycle'> {
    return {
      onCommandSent: (c) => this.journal.take({ kind: 'command', commandId: c.commandId }),
      ...(this.traffic ? { lifecycle: this.traffic.lifecycle } : {})
    }
  }

  private ended(rolled: RolloutResult): void {
    for (const c of rolled.commands)
      this.journal.settle({ kind: 'command', commandId: c.commandId }, 'ended')
  }
}
