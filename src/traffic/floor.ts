/**
 * min-healthy held at each leave, as the load balancer sees it then: a host healthy in a target
 * group may leave only while that group keeps its floor of healthy targets without it. The plan
 * caps how many hosts are out at once; this is what keeps the floor when targets that served
 * nothing before the deploy (deployed first with unhealthy-first) did not recover, or others
 * fell ill meanwhile.
 */
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { GroupFloor } from './capacity.js'

/** Host -> why it may not leave now; hosts absent may leave. */
export function belowFloor(
  seen: ReadonlyArray<{ floor: GroupFloor; descriptions: readonly TargetHealthDescription[] }>,
  leaving: readonly string[]
): Map<string, string> {
  const refused = new Map<string, string>()
  for (const { floor, descriptions } of seen) {
    const healthy = new Set(
      descriptions.filter((d) => d.TargetHealth?.State === 'healthy').map((d) => d.Target?.Id)
    )
    let left = healthy.size
    for (const id of leaving) {
      if (!healthy.has(id) || refused.has(id)) continue
      if (left - 1 >= floor.minHealthy) {
        left--
        continue
      }
      refused.set(
        id,
        `not taken out of target group ${floor.name}: ${healthy.size} of its ${floor.targets} target(s) are healthy now, and min-healthy keeps ${floor.minHealthy}; the targets that served nothing before the deploy did not recover, or others fell ill`
      )
    }
  }
  return refused
}
