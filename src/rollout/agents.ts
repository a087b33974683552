/**
 * Checks before anything is sent that every target is SSM-managed with its agent Online, so
 * users get "i-0abc: agent ConnectionLost" instead of a bare InvalidInstanceId.
 */
import { paginateDescribeInstanceInformation, type SSMClient } from '@aws-sdk/client-ssm'
import { wrapAwsError } from '../errors.js'
import { chunk } from '../collections.js'
import type { OfflineHost } from './types.js'

/** DescribeInstanceInformation takes at most 50 ids in its InstanceIds filter. */
const IDS_PER_CALL = 50

export interface AgentCheck {
  online: string[]
  offline: OfflineHost[]
}

export async function checkAgents(
  ssm: SSMClient,
  instanceIds: readonly string[]
): Promise<AgentCheck> {
  const ping = new Map<string, string>()
  try {
    for (const ids of chunk(instanceIds, IDS_PER_CALL)) {
      for await (const page of paginateDescribeInstanceInformation(
        { client: ssm, pageSize: 50 },
        { Filters: [{ Key: 'InstanceIds', Values: ids }] }
      )) {
        for (const info of page.InstanceInformationList ?? []) {
          if (info.InstanceId) ping.set(info.InstanceId, info.PingStatus ?? 'Unknown')
        }
      }
    }
  } catch (err) {
    throw wrapAwsError('DescribeInstanceInformation', err)
  }
  const online: string[] = []
  const offline: OfflineHost[] = []
  for (const id of instanceIds) {
    const status = ping.get(id)
    if (status === 'Online') online.push(id)
    else if (status === undefined) {
      offline.push({
        instanceId: id,
        reason:
          'not SSM-managed (no SSM agent registered: check the agent is installed and running and the instance profile grants AmazonSSMManagedInstanceCore)'
      })
    } else offline.push({ instanceId: id, reason: `SSM agent ${status}` })
  }
  return { online, offline }
}
