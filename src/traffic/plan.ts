/**
 * Everything the traffic steps need, settled before anything changes: the target groups, the
 * wait bounds (given, or derived from the groups) and how many hosts may be out at once.
 */
import type { Host } from '../hosts/host.js'
import type { CountOrPercent } from '../model/fleet.js'
import type { Log } from '../log.js'
import { type Capacity, capacity } from './capacity.js'
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
}

export interface TrafficPlan {
  /** Empty: no host is taken out of service (traffic handling off, or no target group). */
  targetGroups: TargetGroup[]
  drainTimeoutMs: number
  healthTimeoutMs: number
  /** Undefined when there is no target group. */
  capacity?: Capacity
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
  const serving = hosts.filter((h) => h.lifecycleState !== 'Standby').length
  return { ...plan, capacity: capacity(serving, settings.minHealthy, options.maxConcurrency) }
}
