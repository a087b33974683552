/** The ELBv2 calls on targets: who is registered, and (de)registering exactly what was. */
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  RegisterTargetsCommand,
  type TargetDescription,
  type TargetHealthDescription
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { aws, errorMessage } from '../errors.js'
import type { Registration } from './types.js'

/** States in which a target no longer receives new requests from the load balancer. */
const OUT_OF_SERVICE = new Set(['draining', 'unused'])

export const targetOf = (r: Registration): TargetDescription => ({
  Id: r.instanceId,
  ...(r.port !== undefined ? { Port: r.port } : {})
})

/** `targets` given: their health; none given: every registered (and draining) target. */
export async function describeHealth(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  targets?: readonly Registration[]
): Promise<TargetHealthDescription[]> {
  const out = await aws(
    'DescribeTargetHealth',
    elbv2.send(
      new DescribeTargetHealthCommand({
        TargetGroupArn: targetGroupArn,
        ...(targets ? { Targets: targets.map(targetOf) } : {})
      })
    )
  )
  return out.TargetHealthDescriptions ?? []
}

/** The hosts' registrations in one target group that are in service (not draining or unused). */
export function inService(
  descriptions: readonly TargetHealthDescription[],
  group: { arn: string; name: string },
  instanceIds: ReadonlySet<string>
): Registration[] {
  return descriptions
    .filter((d) => d.Target?.Id && instanceIds.has(d.Target.Id))
    .filter((d) => !OUT_OF_SERVICE.has(d.TargetHealth?.State ?? ''))
    .map((d) => ({
      targetGroupArn: group.arn,
      targetGroupName: group.name,
      instanceId: d.Target!.Id!,
      ...(d.Target!.Port !== undefined ? { port: d.Target!.Port } : {})
    }))
}

/** Registrations grouped by target group, in first-seen order. */
export function byTargetGroup(registrations: readonly Registration[]): Map<string, Registration[]> {
  const groups = new Map<string, Registration[]>()
  for (const r of registrations) {
    const list = groups.get(r.targetGroupArn) ?? []
    list.push(r)
    groups.set(r.targetGroupArn, list)
  }
  return groups
}

export async function deregister(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  registrations: readonly Registration[]
): Promise<void> {
  await aws(
    'DeregisterTargets',
    elbv2.send(
      new DeregisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: registrations.map(targetOf)
      })
    )
  )
}

export async function register(
  elbv2: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  registrations: readonly Registration[]
): Promise<void> {
  await aws(
    'RegisterTargets',
    elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: targetGroupArn,
        Targets: registrations.map(targetOf)
      })
    )
  )
}

export interface RestoreResult {
  restored: Registration[]
  /** Target groups the registrations could not be put back in, with AWS's answer. */
  failed: Array<{ registrations: Registration[]; error: string }>
}

/**
 * Registers `registrations` again, each target group on its own so one failure does not keep
 * the others out. Idempotent (registering a registered target changes nothing): the post step
 * replays what a dead run's journal says was taken out.
 */
export async function restoreRegistrations(
  elbv2: ElasticLoadBalancingV2Client,
  registrations: readonly Registration[]
): Promise<RestoreResult> {
  const result: RestoreResult = { restored: [], failed: [] }
  for (const [arn, regs] of byTargetGroup(registrations)) {
    try {
      await register(elbv2, arn, regs)
      result.restored.push(...regs)
    } catch (err) {
      result.failed.push({ registrations: regs, error: errorMessage(err) })
    }
  }
  return result
}
