/**
 * Finds the instances to work on: by tags and/or Auto Scaling group membership, in every
 * state asked for, reading every page, with the filters pushed to the API.
 */
import { chunk } from '../collections.js'
import {
  type AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup,
  paginateDescribeAutoScalingGroups
} from '@aws-sdk/client-auto-scaling'
import { type EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2'
import { aws, SettingError, wrapAwsError } from '../errors.js'
import type { InstanceState, TagFilter } from '../model/fleet.js'
import { RELEASE_TAG } from '../model/release.js'
import { compareHosts, type Host } from './host.js'
import { describeInstances } from './instances.js'

export interface HostQuery {
  tags: TagFilter
  states: readonly InstanceState[]
  /**
   * Only members of these groups (those in `asgLifecycleStates`, MEMBER_STATES by default):
   * the union of their members, every group checked to exist.
   */
  asgNames?: readonly string[]
  asgLifecycleStates?: readonly string[]
}

export interface ResolvedHosts {
  hosts: Host[]
  /** The filter as sent, for the log: `tag:Role in (app) AND instance-state-name in (running)`. */
  description: string
  /** Calls made, by API name. */
  calls: Record<string, number>
  /** The Auto Scaling groups the query named, as read, in the order named. */
  groups: AutoScalingGroup[]
}

/**
 * The members a deploy works on: those in service, and those in Standby, which are running and
 * go back into service with whatever code they have (skipping them left old code serving).
 */
export const MEMBER_STATES: readonly string[] = ['InService', 'Standby']

export function describeQuery(query: HostQuery): string {
  const parts = [...query.tags].map(([k, v]) => `tag:${k} in (${v.join(', ')})`)
  parts.push(`instance-state-name in (${query.states.join(', ')})`)
  if (query.asgNames?.length) {
    const states = query.asgLifecycleStates ?? MEMBER_STATES
    const groups = query.asgNames.join(', ')
    const noun = query.asgNames.length > 1 ? 'of Auto Scaling groups' : 'of Auto Scaling group'
    parts.push(`member ${noun} ${groups} (${states.join(', ')})`)
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

/** AutoScalingGroupNames per call: the API answers at most 100 groups a page. */
const GROUP_NAMES_MAX = 50

/**
 * The named groups, in the order named. A group that does not exist fails by name (all of
 * them at once), before anything else is read.
 */
export async function describeGroups(
  autoscaling: AutoScalingClient,
  names: readonly string[]
): Promise<AutoScalingGroup[]> {
  const found = new Map<string, AutoScalingGroup>()
  try {
    for (const batch of chunk([...names], GROUP_NAMES_MAX)) {
      for await (const page of paginateDescribeAutoScalingGroups(
        { client: autoscaling, pageSize: 100 },
        { AutoScalingGroupNames: batch }
      )) {
        for (const g of page.AutoScalingGroups ?? [])
          if (g.AutoScalingGroupName) found.set(g.AutoScalingGroupName, g)
      }
    }
  } catch (err) {
    throw wrapAwsError('DescribeAutoScalingGroups', err)
  }
  const missing = names.filter((n) => !found.has(n))
  if (missing.length === 1) {
    throw new SettingError(
      'groups',
      `Auto Scaling group ${JSON.stringify(missing[0])} does not exist in this region. Expected the name of an existing group.`
    )
  }
  if (missing.length > 1) {
    throw new SettingError(
      'groups',
      `Auto Scaling groups ${missing.map((n) => JSON.stringify(n)).join(', ')} do not exist in this region. Expected the names of existing groups.`
    )
  }
  return names.map((n) => found.get(n)!)
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
  let groups: AutoScalingGroup[] = []
  if (query.asgNames?.length) {
    count('DescribeAutoScalingGroups')
    groups = await describeGroups(clients.autoscaling, query.asgNames)
    const lifecycle = new Set(query.asgLifecycleStates ?? MEMBER_STATES)
    for (const group of groups)
      for (const i of group.Instances ?? [])
        if (i.InstanceId && lifecycle.has(i.LifecycleState ?? ''))
          memberStates.set(i.InstanceId, i.LifecycleState!)
    memberIds = [...memberStates.keys()]
    if (memberIds.length === 0) return { hosts: [], description, calls, groups }
  }

  // Members go in as ids (an `instance-id` filter): one terminated since the group was read is
  // simply not found instead of failing the whole call.
  const instances = await describeInstances(clients.ec2, {
    filters,
    ...(memberIds ? { instanceIds: memberIds } : {}),
    pageSize: options.pageSize ?? 1000,
    onPage: () => count('DescribeInstances')
  })
  const byId = new Map<string, Host>()
  for (const instance of instances) {
    const host = toHost(instance)
    if (!host) continue
    const lifecycleState = memberStates.get(host.instanceId)
    if (lifecycleState) host.lifecycleState = lifecycleState
    byId.set(host.instanceId, host)
  }
  const hosts = [...byId.values()].sort(compareHosts)
  return { hosts, description, calls, groups }
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
  setIf(host, 'release', tags[RELEASE_TAG])
  return host
}

function setIf<K extends keyof Host>(host: Host, key: K, value: Host[K] | undefined): void {
  if (value !== undefined && value !== '') host[key] = value
}
