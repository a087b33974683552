/**
 * The hosts' target health as a bake looks at it: one DescribeTargetHealth per target group,
 * and the first of the rollout's hosts that the load balancer finds unhealthy. Hosts still
 * `initial` or `draining` are not faults; `unhealthy` is.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { Host } from '../hosts/host.js'
import type { TrafficPlan } from './plan.js'
import { describeHealth } from './targets.js'

export function targetHealthCheck(
  elbv2: ElasticLoadBalancingV2Client,
  plan: TrafficPlan,
  hosts: readonly Host[]
): () => Promise<string | undefined> {
  // A host that served nothing before the deploy is not the deploy's fault while it still doesn't.
  const ids = new Set(hosts.map((h) => h.instanceId).filter((id) => !plan.notServing?.has(id)))
  return async () => {
    for (const group of plan.targetGroups) {
      for (const d of await describeHealth(elbv2, group.arn)) {
        const id = d.Target?.Id
        if (!id || !ids.has(id) || d.TargetHealth?.State !== 'unhealthy') continue
        const why = [d.TargetHealth.Reason, d.TargetHealth.Description].filter(Boolean).join(': ')
        return `${id} is unhealthy in target group ${group.name}${why ? ` (${why})` : ''}`
      }
    }
    return undefined
  }
}
