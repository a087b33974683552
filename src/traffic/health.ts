/**
 * What the load balancer sees before the deploy: in each target group, every target (not only
 * this deploy's hosts), which are healthy, and which serve nothing with ELB's reason. A member
 * of an Auto Scaling group the target group is attached to that is registered nowhere in it
 * (and not in Standby) is out of service too (a dead run left it out, or someone deregistered
 * it): counted as a target that is not serving, never as serving. Read-only.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { Host } from '../hosts/host.js'
import { describeHealth } from './targets.js'
import type { TargetGroup } from './types.js'

/** A target that serves nothing now, with what ELB says (or `unregistered`). */
export interface NotServing {
  instanceId: string
  /** ELB's state (unhealthy, initial, unavailable, draining...) or `unregistered`. */
  state: string
  reasonCode?: string
  description?: string
}

export interface GroupHealth {
  arn: string
  name: string
  /** Every target counted: registered (not draining away) or a member that should be. */
  targets: number
  healthy: string[]
  notServing: NotServing[]
}

/** One DescribeTargetHealth per target group (every target), before anything changes. */
export async function readGroupHealth(
  elbv2: ElasticLoadBalancingV2Client,
  groups: readonly TargetGroup[],
  hosts: readonly Host[]
): Promise<GroupHealth[]> {
  const out: GroupHealth[] = []
  for (const g of groups) {
    const listed = await describeHealth(elbv2, g.arn)
    const healthy: string[] = []
    const notServing: NotServing[] = []
    const seen = new Set<string>()
    for (const d of listed) {
      const id = d.Target?.Id
      if (!id || seen.has(id)) continue
      seen.add(id)
      const h = d.TargetHealth
      if (h?.State === 'healthy') healthy.push(id)
      else if (h?.State !== 'draining' || isMember(g, hosts, id))
        notServing.push({
          instanceId: id,
          state: h?.State ?? 'unknown',
          ...(h?.Reason ? { reasonCode: h.Reason } : {}),
          ...(h?.Description ? { description: h.Description } : {})
        })
    }
    for (const host of hosts) {
      if (seen.has(host.instanceId) || !isMember(g, hosts, host.instanceId)) continue
      notServing.push({
        instanceId: host.instanceId,
        state: 'unregistered',
        description: `a member of ${host.autoScalingGroup} registered nowhere in the target group, and not in Standby`
      })
    }
    out.push({
      arn: g.arn,
      name: g.name,
      targets: healthy.length + notServing.length,
      healthy,
      notServing
    })
  }
  return out
}

/** A host of the deploy, in an Auto Scaling group attached to `g`, not in Standby. */
function isMember(g: TargetGroup, hosts: readonly Host[], id: string): boolean {
  const host = hosts.find((h) => h.instanceId === id)
  if (!host?.autoScalingGroup || host.lifecycleState === 'Standby') return false
  return (g.attachedTo ?? []).includes(host.autoScalingGroup)
}

/** `i-1 (unhealthy: Target.Timeout)`, for the messages that name them. */
export function describeNotServing(t: NotServing): string {
  const why = t.reasonCode ?? t.description
  return `${t.instanceId} (${t.state}${why ? `: ${why}` : ''})`
}
