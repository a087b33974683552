/**
 * Finds the instances to work on: by tags and/or Auto Scaling group membership, in every
 * state asked for, reading every page, with the filters pushed to the API.
 */
import { chunk } from '../collections.js'
import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup
} from '@aws-sdk/client-auto-scaling'
import {
  type EC2Client,
  type Filter,
  type Instance,
  paginateDescribeInstances
} from '@aws-sdk/client-ec2'
import { aws, InputError, wrapAwsError } from '../errors.js'
import type { InstanceState, TagFilter } from '../inputs.js'
import { compareHosts, type Host } from './host.js'

export interface HostQuery {
  tags: TagFilter
  states: readonly InstanceState[]
  /** Only members of this group (those in `asgLifecycleStates`, MEMBER_STATES by default). */
  asgName?: string
  asgLifecycleStates?: readonly string[]
}

export interface ResolvedHosts {
  hosts: Host[]
  /** The filter as sent, for the log: `tag:Role in (app) AND instance-state-name in (running)`. */
  description: string
  /** Calls made, by API name. */
  calls: Record<string, number>
  /** The Auto Scaling group, as read, when the query named one. */
  group?: AutoScalingGroup
}

/**
 * The members a deploy works on: those in service, and those in Standby, which are running and
 * go back into service with whatever code they have (skipping them left old code serving).
 */
export const MEMBER_STATES: readonly string[] = ['InService', 'Standby']

/** EC2 accepts at most 200 values in one filter. */
const FILTER_VALUES_MAX = 200

export function describeQuery(query: HostQuery): string {
  const parts = [...query.tags].map(([k, v]) => `tag:${k} in (${v.join(', ')})`)
  parts.push(`instance-state-name in (${query.states.join(', ')})`)
  if (query.asgName) {
    const states = query.asgLifecycleStates ?? MEMBER_STATES
    parts.push(`member of Auto Scaling group ${query.asgName} (${states.join(', ')})`)
  }
  return parts.join(' AND ')
}

export function ec2Filters(query: HostQuery): Filter[] {
  const filters: Filter[] = [...query.tags].map(([key, values]) => ({
    Name: `tag:${key}`,
    Values: [...values]
  }))
  filters.push({ Name: 'instance-state-name', Values: [...query.states] })
  return filters
}

export async function describeGroup(
  autoscaling: AutoScalingClient,
  name: string
): Promise<AutoScalingGroup | undefined> {
  const out = await aws(
    'DescribeAutoScalingGroups',
    autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
  )
  return out.AutoScalingGroups?.find((g) => g.AutoScalingGroupName === name)
}

export async function resolveHosts(
  clients: { ec2: EC2Client; autoscaling: AutoScalingClient },
  query: HostQuery,
  options: { pageSize?: number } = {}
): Promise<ResolvedHosts> {
  const calls: Record<string, number> = {}
  const count = (api: string): void => {
    calls[api] = (calls[api] ?? 0) + 1
  }
  const description = describeQuery(query)
  const filters = ec2Filters(query)

  let memberIds: string[] | undefined
  const memberStates = new Map<string, string>()
  let group: AutoScalingGroup | undefined
  if (query.asgName) {
    count('DescribeAutoScalingGroups')
    group = await describeGroup(clients.autoscaling, query.asgName)
    if (!group) {
      throw new InputError(
        'asg-name',
        `Auto Scaling group ${JSON.stringify(query.asgName)} does not exist in this region. Expected the name of an existing group.`
      )
    }
    const lifecycle = new Set(query.asgLifecycleStates ?? MEMBER_STATES)
    for (const i of group.Instances ?? [])
      if (i.InstanceId && lifecycle.has(i.LifecycleState ?? ''))
        memberStates.set(i.InstanceId, i.LifecycleState!)
    memberIds = [...memberStates.keys()]
    if (memberIds.length === 0) return { hosts: [], description, calls, group }
  }

  // Members go in as an `instance-id` filter (not InstanceIds), so an instance terminated
  // since the group was read is simply not found instead of failing the whole call.
  const idChunks: Array<string[] | undefined> = memberIds
    ? chunk(memberIds, FILTER_VALUES_MAX)
    : [undefined]
  const byId = new Map<string, Host>()
  for (const ids of idChunks) {
    const pageFilters = ids ? [...filters, { Name: 'instance-id', Values: ids }] : filters
    try {
      for await (const page of paginateDescribeInstances(
        { client: clients.ec2, pageSize: options.pageSize ?? 1000 },
        { Filters: pageFilters }
      )) {
        count('DescribeInstances')
        for (const reservation of page.Reservations ?? []) {
          for (const instance of reservation.Instances ?? []) {
            const host = toHost(instance)
            if (!host) continue
            const lifecycleState = memberStates.get(host.instanceId)
            if (lifecycleState) host.lifecycleState = lifecycleState
            byId.set(host.instanceId, host)
          }
        }
      }
    } catch (err) {
      throw wrapAwsError('DescribeInstances', err)
    }
  }
  const hosts = [...byId.values()].sort(compareHosts)
  return { hosts, description, calls, ...(group ? { group } : {}) }
}

export function toHost(instance: Instance): Host | undefined {
  if (!instance.InstanceId) return undefined
  const tags: Record<string, string> = {}
  for (const t of instance.Tags ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? ''
  const host: Host = {
    instanceId: instance.InstanceId,
    state: instance.State?.Name ?? 'unknown',
    launchTime: instance.LaunchTime ? instance.LaunchTime.toISOString() : '',
    tags
  }
  setIf(host, 'privateIp', instance.PrivateIpAddress)
  setIf(host, 'publicIp', instance.PublicIpAddress)
  setIf(host, 'privateDnsName', instance.PrivateDnsName)
  setIf(host, 'publicDnsName', instance.PublicDnsName)
  setIf(host, 'availabilityZone', instance.Placement?.AvailabilityZone)
  setIf(host, 'launchTemplateId', tags['aws:ec2launchtemplate:id'])
  setIf(host, 'launchTemplateVersion', tags['aws:ec2launchtemplate:version'])
  setIf(host, 'autoScalingGroup', tags['aws:autoscaling:groupName'])
  return host
}

function setIf<K extends keyof Host>(host: Host, key: K, value: Host[K] | undefined): void {
  if (value !== undefined && value !== '') host[key] = value
}
