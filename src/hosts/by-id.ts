/**
 * instance-ids given bare: the hosts as Host objects, in the order given (the first is the
 * primary), with their Auto Scaling group and lifecycle state, which the traffic plan needs
 * (which target groups they serve in, which are in Standby).
 */
import {
  type AutoScalingClient,
  DescribeAutoScalingInstancesCommand
} from '@aws-sdk/client-auto-scaling'
import type { EC2Client } from '@aws-sdk/client-ec2'
import { chunk } from '../collections.js'
import { aws } from '../errors.js'
import type { Host } from './host.js'
import { describeInstances } from './instances.js'
import { toHost } from './resolve.js'

export async function describeHostsById(
  clients: { ec2: EC2Client; autoscaling: AutoScalingClient },
  instanceIds: readonly string[]
): Promise<Host[]> {
  const byId = new Map<string, Host>()
  // An id that no longer exists is left to the rollout to report.
  for (const instance of await describeInstances(clients.ec2, { instanceIds })) {
    const host = toHost(instance)
    if (host) byId.set(host.instanceId, host)
  }
  for (const ids of chunk([...byId.keys()], 50)) {
    const out = await aws(
      'DescribeAutoScalingInstances',
      clients.autoscaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: ids }))
    )
    for (const a of out.AutoScalingInstances ?? []) {
      const host = a.InstanceId ? byId.get(a.InstanceId) : undefined
      if (!host) continue
      if (a.AutoScalingGroupName) host.autoScalingGroup = a.AutoScalingGroupName
      if (a.LifecycleState) host.lifecycleState = a.LifecycleState
    }
  }
  // Ids EC2 does not know keep their place: the rollout reports them unreachable.
  return instanceIds.map(
    (id) => byId.get(id) ?? { instanceId: id, state: 'unknown', launchTime: '', tags: {} }
  )
}
