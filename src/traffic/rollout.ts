/**
 * The traffic steps as the rollout's lifecycle: `before` takes a group of hosts out of every
 * target group and waits out the drain, `after` puts them back and waits until healthy. The
 * plan caps how many hosts run at once (a host holds its slot from `before` until its `after`
 * settled; meanwhile the rollout follows the other hosts and refills the slots they free), and
 * the per-host timings feed the summary.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { Clock } from '../clock.js'
import { errorMessage } from '../errors.js'
import type { Host } from '../hosts/host.js'
import type { Lifecycle } from '../rollout/lifecycle.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { Runtime } from '../runtime.js'
import { Traffic, type TrafficOptions } from './service.js'
import type { TrafficPlan } from './plan.js'
import type { LeaveResult, ReturnResult } from './types.js'

/** How long one host was out of service, and what it waited for. */
export interface HostTraffic {
  instanceId: string
  drainMs: number
  drainTimedOut: boolean
  healthWaitMs: number
  outOfServiceMs: number
  /** The health gate's failure, when it failed. */
  failure?: string
  /** Not healthy after its deploy, but not serving before it either (not a failure). */
  notServingBefore?: string
}

export interface TrafficRollout {
  plan: TrafficPlan
  traffic: Traffic
  lifecycle: Lifecycle
  /** Every host taken out of service so far, with its timings. */
  hosts: Map<string, HostTraffic>
}

/** The rollout options with max-concurrency (and the canary) capped by the plan's capacity. */
export function limitRollout<T extends Pick<RolloutOptions, 'maxConcurrency' | 'canary'>>(
  options: T,
  plan: TrafficPlan
): T {
  const max = plan.capacity?.maxOutOfService
  if (!max) return options
  return {
    ...options,
    maxConcurrency: { kind: 'count', value: max },
    canary: Math.min(options.canary, max)
  }
}

/**
 * The lifecycle for `plan`, or undefined when no host leaves service (no target group).
 * `hosts` must hold every host the rollout may start (for its Auto Scaling lifecycle state).
 */
export function trafficRollout(
  elbv2: ElasticLoadBalancingV2Client,
  plan: TrafficPlan,
  hosts: readonly Host[],
  runtime: Runtime,
  callbacks: Pick<TrafficOptions, 'onLeave' | 'onReturn' | 'onGone' | 'backoff'> = {}
): TrafficRollout | undefined {
  if (!plan.targetGroups.length) return undefined
  const traffic = new Traffic(
    elbv2,
    {
      targetGroups: plan.targetGroups,
      drainTimeoutMs: plan.drainTimeoutMs,
      healthTimeoutMs: plan.healthTimeoutMs,
      ...(plan.capacity?.floors ? { floors: plan.capacity.floors } : {}),
      ...(plan.notServing ? { wasNotServing: plan.notServing } : {}),
      ...callbacks
    },
    runtime
  )
  const byId = new Map(hosts.map((h) => [h.instanceId, h]))
  const hostOf = (id: string): Host =>
    byId.get(id) ?? { instanceId: id, state: '', launchTime: '', tags: {} }
  const timings = new Timings(runtime.clock)
  const lifecycle: Lifecycle = {
    before: async (ids) => {
      const started = runtime.clock.now()
      const left = await traffic.leaveService(ids.map(hostOf))
      timings.left(left, started)
      return left.refused
    },
    after: async (results) => {
      // A terminated host cannot serve again: forgotten, not registered and waited on.
      const gone = results.filter((r) => r.status === 'Terminated').map((r) => r.instanceId)
      if (gone.length) await traffic.forget(gone)
      const live = results.filter((r) => r.status !== 'Terminated')
      let back: ReturnResult
      try {
        back = await traffic.returnToService(live.map((r) => hostOf(r.instanceId)))
      } catch (err) {
        // Cancelled or an AWS error mid-wait: the summary shows it, not a 0 s healthy return.
        timings.notReturned(
          live.map((r) => r.instanceId),
          err
        )
        throw err
      }
      timings.returned(back)
      return back.failed.map((f) => ({ instanceId: f.instanceId, reason: f.message }))
    }
  }
  return { plan, traffic, lifecycle, hosts: timings.hosts }
}

/** Each host's time out of service, kept as it leaves and as it returns, for the summary. */
class Timings {
  readonly hosts = new Map<string, HostTraffic>()
  private readonly leftAt = new Map<string, number>()

  constructor(private readonly clock: Clock) {}

  /** Hosts that left service in a `before` that started at `startedAt`. */
  left(left: LeaveResult, startedAt: number): void {
    for (const id of left.instanceIds) {
      this.leftAt.set(id, startedAt)
      this.hosts.set(id, {
        instanceId: id,
        drainMs: left.drainMs,
        drainTimedOut: left.drainTimedOut,
        healthWaitMs: 0,
        outOfServiceMs: 0
      })
    }
  }

  /** Hosts back in service, or failed by the health gate. */
  returned(back: ReturnResult): void {
    const failed = new Map(back.failed.map((f) => [f.instanceId, f.message]))
    for (const id of back.instanceIds) {
      const t = this.hosts.get(id)
      if (!t) continue
      t.healthWaitMs = back.healthWaitMs
      t.outOfServiceMs = back.outOfServiceMs
      const failure = failed.get(id)
      if (failure) t.failure = failure
      const before = back.stillNotServing.find((f) => f.instanceId === id)
      if (before) t.notServingBefore = before.message
    }
  }

  /** Hosts whose return was interrupted by `err`: out of service until now, failed with it. */
  notReturned(instanceIds: readonly string[], err: unknown): void {
    for (const id of instanceIds) {
      const t = this.hosts.get(id)
      if (!t) continue
      t.outOfServiceMs = this.clock.now() - (this.leftAt.get(id) ?? this.clock.now())
      t.failure = errorMessage(err)
    }
  }
}
