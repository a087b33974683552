/**
 * Everything the traffic steps need, settled before anything changes: the target groups, the
 * wait bounds (given, or derived from the groups) and how many hosts may be out at once.
 */
import type { Host } from '../hosts/host.js'
import type { CountOrPercent } from '../model/fleet.js'
import type { Log } from '../log.js'
import { type Capacity, capacity, type GroupFloor, healthCapacity } from './capacity.js'
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

/**
 * The plan, read-only: the target groups, the waits, and the capacity as the load balancer
 * sees it now (refusing a deploy that cannot keep min-healthy). `first`: hosts to take first
 * whatever unhealthy-first says (those a dead run left out of service, just registered again).
 */
export async function planTraffic(
  clients: TrafficClients,
  hosts: readonly Host[],
  settings: TrafficSettings,
  options: { maxConcurrency: CountOrPercent; log: Log; first?: readonly string[] }
): Promise<TrafficPlan> {
  const plan = await planTargetGroups(clients, hosts, settings, options)
  return withHealth(clients, plan, hosts, settings, options)
}

/**
 * What needs no look at health, checked before the deploy lock is taken: the target groups
 * (a wrong name fails at once), the waits, and min-healthy against each group's size.
 */
export async function planTargetGroups(
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
  // Too large for the group whatever its health: refused before any lock.
  for (const g of health) capacity(g.targets, settings.minHealthy, options.maxConcurrency)
  return { ...plan, health }
}

/** The plan with the capacity of the targets' health now (read again: a lock may have waited). */
export async function withHealth(
  clients: TrafficClients,
  plan: TrafficPlan,
  hosts: readonly Host[],
  settings: TrafficSettings,
  options: { maxConcurrency: CountOrPercent; first?: readonly string[] }
): Promise<TrafficPlan> {
  if (!plan.targetGroups.length) return plan
  const health = await readGroupHealth(clients.elbv2, plan.targetGroups, hosts)
  const restored = options.first ?? []
  const first = settings.unhealthyFirst === true || restored.length > 0
  const notServing = new Set([
    ...health.flatMap((g) => g.notServing.map((t) => t.instanceId)),
    ...restored
  ])
  const cap = healthCapacity(health, settings.minHealthy, options.maxConcurrency, first)
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
