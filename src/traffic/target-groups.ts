/**
 * Finds the target groups a deploy takes hosts out of: those attached to the hosts' Auto Scaling
 * groups and/or those the user names, with the timings that bound the waits. Read-only; refuses
 * Classic Load Balancers before anything changes.
 */
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  paginateDescribeAutoScalingGroups
} from '@aws-sdk/client-auto-scaling'
import {
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  type ElasticLoadBalancingV2Client,
  type TargetGroup as ElbTargetGroup
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { chunk } from '../collections.js'
import { ActionError, aws, awsErrorCode, SettingError, wrapAwsError } from '../errors.js'
import type { Host } from '../hosts/host.js'
import type { Log } from '../log.js'
import type { TargetGroup, TargetGroupChoice } from './types.js'

/** AWS's defaults, for a target group that does not state them. */
const DEFAULT_DELAY_S = 300
const DEFAULT_INTERVAL_S = 30
const DEFAULT_HEALTHY_THRESHOLD = 5

export interface TrafficClients {
  autoscaling: AutoScalingClient
  elbv2: ElasticLoadBalancingV2Client
}

/** Every target group of `choice` for these hosts, described, in a stable order (by name). */
export async function findTargetGroups(
  clients: TrafficClients,
  hosts: readonly Host[],
  choice: TargetGroupChoice,
  log: Log
): Promise<TargetGroup[]> {
  const groupNames = [...new Set(hosts.flatMap((h) => h.autoScalingGroup ?? []))].sort()
  const wanted = choice.auto || choice.given.length > 0
  const described =
    wanted && groupNames.length ? await describeGroups(clients.autoscaling, groupNames) : []
  // Which Auto Scaling groups each target group is attached to: their members belong in it.
  const attachedTo = new Map<string, string[]>()
  for (const g of described)
    for (const arn of choice.auto ? attachedTargetGroups([g], log) : elbv2Sources(g))
      attachedTo.set(arn, [...(attachedTo.get(arn) ?? []), g.AutoScalingGroupName!])
  const arns = choice.auto ? new Set(attachedTo.keys()) : new Set<string>()
  const found = new Map<string, ElbTargetGroup>()
  for (const ref of choice.given) {
    const tg = await describeTargetGroup(clients.elbv2, ref, true)
    found.set(tg.TargetGroupArn!, tg)
  }
  for (const arn of arns) {
    if (!found.has(arn)) found.set(arn, await describeTargetGroup(clients.elbv2, arn, false))
  }
  const groups: TargetGroup[] = []
  for (const tg of found.values()) {
    const attached = attachedTo.get(tg.TargetGroupArn!)
    groups.push({
      ...(await withTimings(clients.elbv2, tg)),
      ...(attached ? { attachedTo: attached } : {})
    })
  }
  return groups.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

async function describeGroups(
  autoscaling: AutoScalingClient,
  names: readonly string[]
): Promise<AutoScalingGroup[]> {
  const groups: AutoScalingGroup[] = []
  try {
    for (const batch of chunk(names, 50)) {
      for await (const page of paginateDescribeAutoScalingGroups(
        { client: autoscaling },
        { AutoScalingGroupNames: batch }
      ))
        groups.push(...(page.AutoScalingGroups ?? []))
    }
  } catch (err) {
    throw wrapAwsError('DescribeAutoScalingGroups', err)
  }
  return groups
}

/**
 * The ELBv2 target groups attached to the groups (TargetGroupARNs and `elbv2` traffic sources).
 * A Classic Load Balancer is refused: it would keep sending requests to hosts mid-deploy.
 */
export function attachedTargetGroups(groups: readonly AutoScalingGroup[], log: Log): string[] {
  const arns = new Set<string>()
  for (const g of groups) {
    const classic = new Set(g.LoadBalancerNames ?? [])
    for (const source of g.TrafficSources ?? []) {
      if (!source.Identifier) continue
      if (source.Type === 'elbv2') arns.add(source.Identifier)
      else if (source.Type === 'elb') classic.add(source.Identifier)
      else
        log.warning(
          `${g.AutoScalingGroupName}: traffic source ${source.Identifier} (${source.Type}) is not drained by this action.`
        )
    }
    for (const arn of g.TargetGroupARNs ?? []) arns.add(arn)
    if (classic.size) {
      throw new ActionError(
        `Auto Scaling group ${g.AutoScalingGroupName} has Classic Load Balancer(s) attached (${[...classic].join(', ')}); this action takes hosts out of ELBv2 target groups only. ` +
          'Put the instances behind an Application or Network Load Balancer target group attached to the group, ' +
          'or set target-groups to the target groups to use, or to "none" to deploy without taking hosts out of service. Nothing was changed.'
      )
    }
  }
  return [...arns]
}

/** The ELBv2 target groups attached to one group, without judging its other traffic sources. */
function elbv2Sources(g: AutoScalingGroup): string[] {
  const fromSources = (g.TrafficSources ?? []).filter((s) => s.Type === 'elbv2' && s.Identifier)
  return [...new Set([...(g.TargetGroupARNs ?? []), ...fromSources.map((s) => s.Identifier!)])]
}

/** One target group by ARN or name; `fromInput` makes a missing one an error on target-groups. */
async function describeTargetGroup(
  elbv2: ElasticLoadBalancingV2Client,
  ref: string,
  fromInput: boolean
): Promise<ElbTargetGroup> {
  const byArn = ref.startsWith('arn:')
  let tg: ElbTargetGroup | undefined
  try {
    const out = await elbv2.send(
      new DescribeTargetGroupsCommand(byArn ? { TargetGroupArns: [ref] } : { Names: [ref] })
    )
    tg = out.TargetGroups?.[0]
  } catch (err) {
    if (
      !fromInput ||
      !['TargetGroupNotFound', 'TargetGroupNotFoundException', 'ValidationError'].includes(
        awsErrorCode(err) ?? ''
      )
    )
      throw wrapAwsError('DescribeTargetGroups', err)
  }
  if (!tg) {
    const message = `${JSON.stringify(ref)} is not a target group in this region. Expected target group ARNs or names (ELBv2), "auto" or "none".`
    if (fromInput) throw new SettingError('targetGroups', message)
    throw new ActionError(
      `Target group ${ref}, attached to an Auto Scaling group of the hosts, was not found.`
    )
  }
  if ((tg.TargetType ?? 'instance') !== 'instance') {
    throw new SettingError(
      'targetGroups',
      `target group ${tg.TargetGroupName} registers targets of type ${tg.TargetType}, not instances. Expected target groups whose targets are the hosts' instance ids.`
    )
  }
  return tg
}

async function withTimings(
  elbv2: ElasticLoadBalancingV2Client,
  tg: ElbTargetGroup
): Promise<TargetGroup> {
  const out = await aws(
    'DescribeTargetGroupAttributes',
    elbv2.send(new DescribeTargetGroupAttributesCommand({ TargetGroupArn: tg.TargetGroupArn! }))
  )
  const delay = out.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')
  const delayS = Number(delay?.Value ?? DEFAULT_DELAY_S)
  const interval = tg.HealthCheckIntervalSeconds ?? DEFAULT_INTERVAL_S
  const threshold = tg.HealthyThresholdCount ?? DEFAULT_HEALTHY_THRESHOLD
  return {
    arn: tg.TargetGroupArn!,
    name: tg.TargetGroupName ?? tg.TargetGroupArn!,
    deregistrationDelayMs: (Number.isFinite(delayS) ? delayS : DEFAULT_DELAY_S) * 1000,
    healthCheckMs: interval * threshold * 1000
  }
}

/** drain-timeout's default: the longest deregistration delay, plus 30 s for ELB's own lag. */
export function defaultDrainTimeoutMs(groups: readonly TargetGroup[]): number {
  return Math.max(0, ...groups.map((g) => g.deregistrationDelayMs)) + 30_000
}

/** health-timeout's default: twice the slowest interval x healthy threshold, plus 30 s. */
export function defaultHealthTimeoutMs(groups: readonly TargetGroup[]): number {
  return 2 * Math.max(0, ...groups.map((g) => g.healthCheckMs)) + 30_000
}
