/**
 * Warm pools. An instance in a group's warm pool was prepared from the template as it was when
 * it joined the pool, and keeps that code volume when it goes into service: after a publish it
 * would serve old code indefinitely. Each such instance is terminated in place
 * (TerminateInstanceInAutoScalingGroup, desired capacity unchanged), and the group refills the
 * pool from the new default version. The pool's configuration is never touched, so a run killed
 * half-way leaves a smaller pool being refilled, never a deleted one; a re-run finds what is left.
 * One group here; the phase over every target's groups is ../refresh-warm-pools.ts.
 */
import {
  type AutoScalingClient,
  type Instance,
  paginateDescribeWarmPool,
  TerminateInstanceInAutoScalingGroupCommand
} from '@aws-sdk/client-auto-scaling'
import { aws, errorMessage, wrapAwsError } from '../../errors.js'
import type { Log } from '../../log.js'

/** What the fleet boots from now: instances prepared from an older version hold old code. */
export interface PublishedVersion {
  launchTemplateId: string
  version: number
}

export type WarmPoolMode = 'replace' | 'keep'

export interface WarmPoolResult {
  groupName: string
  /** Instances in the pool when it was read. */
  poolSize: number
  /** Prepared from an older version (or one that cannot be told): old code. */
  stale: string[]
  /** Terminated so the pool refills from the new version (under dry run: would be). */
  replaced: string[]
  /** Left in the pool because warm-pools is `keep`. */
  kept: string[]
  refused: Array<{ instanceId: string; error: string }>
}

/** Prepared from another template, an older version, or a version that is not a number. */
export function isStaleWarmInstance(instance: Instance, published: PublishedVersion): boolean {
  const lt = instance.LaunchTemplate
  if (!lt || lt.LaunchTemplateId !== published.launchTemplateId) return true
  const version = Number(lt.Version)
  return !Number.isInteger(version) || version < published.version
}

/** The instances in a group's warm pool, every page; [] when the group has no warm pool. */
export async function warmPoolInstances(
  autoscaling: AutoScalingClient,
  groupName: string
): Promise<Instance[]> {
  const instances: Instance[] = []
  try {
    for await (const page of paginateDescribeWarmPool(
      { client: autoscaling, pageSize: 50 },
      { AutoScalingGroupName: groupName }
    )) {
      if (!page.WarmPoolConfiguration) return []
      instances.push(...(page.Instances ?? []))
    }
  } catch (err) {
    throw wrapAwsError('DescribeWarmPool', err)
  }
  return instances
}

export async function refreshWarmPool(
  autoscaling: AutoScalingClient,
  groupName: string,
  published: PublishedVersion,
  options: { mode: WarmPoolMode; dryRun: boolean; log: Log }
): Promise<WarmPoolResult> {
  const { log } = options
  const pool = await warmPoolInstances(autoscaling, groupName)
  const stale = pool
    .filter((i) => i.InstanceId && isStaleWarmInstance(i, published))
    .map((i) => i.InstanceId!)
  const result: WarmPoolResult = {
    groupName,
    poolSize: pool.length,
    stale,
    replaced: [],
    kept: [],
    refused: []
  }
  if (stale.length === 0) return result
  if (options.mode === 'keep') {
    result.kept = stale
    log.warning(
      `${stale.length} instance(s) in the warm pool of ${groupName} were prepared from an older version and will serve OLD code when they go into service: ${stale.join(' ')} (warm-pools: keep). Terminate them, or deploy with warm-pools: replace.`,
      { title: `Warm pool of ${groupName} holds old code` }
    )
    return result
  }
  for (const instanceId of stale) {
    if (options.dryRun) {
      result.replaced.push(instanceId)
      continue
    }
    try {
      await aws(
        'TerminateInstanceInAutoScalingGroup',
        autoscaling.send(
          new TerminateInstanceInAutoScalingGroupCommand({
            InstanceId: instanceId,
            ShouldDecrementDesiredCapacity: false
          })
        )
      )
      result.replaced.push(instanceId)
    } catch (err) {
      result.refused.push({ instanceId, error: errorMessage(err) })
      log.warning(
        `Could not replace warm pool instance ${instanceId} of ${groupName}; it holds old code: ${errorMessage(err)}`,
        { title: `Warm pool of ${groupName} holds old code` }
      )
    }
  }
  log.info(
    `${options.dryRun ? 'Dry run: would replace' : 'Replaced'} ${result.replaced.length} warm pool instance(s) of ${groupName} prepared from an older version; the group refills its pool from version ${published.version}.`
  )
  return result
}
