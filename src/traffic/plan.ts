/**
 * Everything the traffic steps need, settled before anything changes: the target groups, the
 * wait bounds (given, or derived from the groups) and how many hosts may be out at once.
 */
import type { Host } from '../hosts/host.js'
import type { CountOrPercent } from '../model/fleet.js'
import type { Log } from '../log.js'
import { type Capacity, type GroupFloor, healthCapacity } from './capacity.js'
import { type GroupHealth, readGroupHealth } from './health.js'
import {
  defaultDrainTimeoutMs,
  defaultHealthTimeoutMs,
  findTargetGroups,
  type TrafficClients
} from './target-groups.js'
import type { TargetGroup, TargetGroupChoice } from './types.js'

/** The traffic inputs, parsed (src/actions/shared/traffic.ts). */
export interface TrafficSettings {
  targetGroups: TargetGroupChoice
  /** Unset: derived from the target groups. */
  drainTimeoutMs?: number
  healthTimeoutMs?: number
  /** Unset: two thirds of the hosts in service, rounded up. */
  minHealthy?: CountOrPercent
  /** Deploy the hosts that serve nothing first: they cost no capacity. */
  unhealthyFirst?: boolean
}

export interface TrafficPlan {
  /** Empty: no host is taken out of service (traffic handling off, or no target group). */
  targetGroups: TargetGroup[]
  drainTimeoutMs: number
  healthTimeoutMs: number
  /** Undefined when there is no target group. */
  capacity?: Capacity & { floors?: GroupFloor[] }
  /** What each target group said before the deploy (every target). */
  health?: GroupHealth[]
  /** The hosts that served nothing before the deploy, in some target group. */
  notServing?: ReadonlySet<string>
  unhealthyFirst?: boolean
}

export async function planTraffic(
  clients: TrafficClients,
  hosts: readonly Host[],
  settings: TrafficSettings,
  options: { maxConcurrency: CountOrPercent; log: Log }
): Promise<TrafficPlan> {
  const targetGroups = await findTargetGroups(clients, hosts, settings.targetGroups, options.log)
  const plan: TrafficPlan = {
    targetGroups,
    drainTimeoutMs: settings.drainTimeoutMs ?? defaultDrainTimeoutMs(targetGroups),
    healthTimeoutMs: settings.healthTimeoutMs ?? defaultHealthTimeoutMs(targetGroups)
  }
  if (!targetGroups.length) return plan
  const health = await readGroupHealth(clients.elbv2, targetGroups, hosts)
  const first = settings.unhealthyFirst === true
  const cap = healthCapacity(health, settings.minHealthy, options.maxConcurrency, first)
  const notServing = new Set(health.flatMap((g) => g.notServing.map((t) => t.instanceId)))
  return { ...plan, capacity: cap, health, notServing, unhealthyFirst: first }
}

/**
 * The hosts in the order the rollout takes them: with unhealthy-first, those that served
 * nothing before the deploy lead (the first of them becomes the primary), else as found.
 */
export function orderHosts<H extends { instanceId: string }>(plan: TrafficPlan, hosts: H[]): H[] {
  if (!plan.unhealthyFirst || !plan.notServing?.size) return hosts
  const down = (h: H): number => (plan.notServing!.has(h.instanceId) ? 0 : 1)
  return [...hosts].sort((a, b) => down(a) - down(b))
}
