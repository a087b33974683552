/**
 * The load-balancer part of a summary: the plan (which target groups, the waits, what stays in
 * service), and per wave how long its hosts were out of service, the drain and the health wait.
 */
import { formatDuration } from '../duration.js'
import type { HostResult } from '../rollout/types.js'
import { describeNotServing } from '../traffic/health.js'
import type { TrafficPlan } from '../traffic/plan.js'
import type { HostTraffic } from '../traffic/rollout.js'
import { table } from './markdown.js'

export function trafficReport(
  plan: TrafficPlan,
  hosts: readonly HostTraffic[],
  results: readonly HostResult[]
): string {
  const parts = [
    '### Load balancer',
    describePlan(plan)
      .map((l) => `- ${l}`)
      .join('\n')
  ]
  if (hosts.length) parts.push(trafficTable(hosts, results))
  return parts.join('\n\n')
}

/** One row per wave (catch-up hosts under their own wave numbers): the longest of its hosts. */
export function trafficTable(
  hosts: readonly HostTraffic[],
  results: readonly HostResult[]
): string {
  const waveOf = new Map(results.map((r) => [r.instanceId, r.wave]))
  const waves = new Map<string, HostTraffic[]>()
  for (const h of hosts) {
    const wave = waveOf.get(h.instanceId)
    const key = wave === undefined ? 'catch-up' : `${wave}`
    waves.set(key, [...(waves.get(key) ?? []), h])
  }
  const longest = (list: readonly HostTraffic[], f: (h: HostTraffic) => number): string =>
    formatDuration(Math.max(...list.map(f)))
  return table(
    ['Wave', 'Hosts', 'Out of service', 'Drain', 'Health wait', 'Health gate'],
    [...waves].map(([wave, list]) => [
      wave,
      list.length,
      longest(list, (h) => h.outOfServiceMs),
      longest(list, (h) => h.drainMs) +
        (list.some((h) => h.drainTimedOut) ? ' (drain-timeout)' : ''),
      longest(list, (h) => h.healthWaitMs),
      list
        .map((h) => h.failure ?? h.notServingBefore)
        .filter(Boolean)
        .join('; ') || '✅ healthy'
    ])
  )
}

/** The plan in a few lines, for the log and dry-run. */
export function describePlan(plan: TrafficPlan): string[] {
  if (!plan.targetGroups.length) {
    return ['No target group: hosts are not taken out of service around their deploy.']
  }
  const lines = plan.targetGroups.map(
    (g) =>
      `Target group ${g.name}: deregistration delay ${formatDuration(g.deregistrationDelayMs)}, health checks ${formatDuration(g.healthCheckMs)} (interval x healthy threshold)`
  )
  lines.push(
    `Waits: drain up to ${formatDuration(plan.drainTimeoutMs)}, healthy within ${formatDuration(plan.healthTimeoutMs)}`
  )
  for (const g of plan.health ?? []) {
    if (!g.notServing.length) continue
    lines.push(
      `Target group ${g.name}: ${g.healthy.length} of ${g.targets} target(s) healthy before the deploy; not serving: ${g.notServing.map(describeNotServing).join(', ')}${plan.unhealthyFirst ? ' (deployed first)' : ''}`
    )
  }
  const c = plan.capacity
  if (c) {
    lines.push(
      `Capacity: ${c.minHealthy} of ${c.inService} host(s) stay in service, at most ${c.maxOutOfService} out at once`
    )
  }
  return lines
}
