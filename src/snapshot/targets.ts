/**
 * Where one snapshot is published: a list of targets, each a launch template, the version its
 * new one is made from, and the groups to report on and refresh. The snapshot action passes
 * one target; the deploy one per distinct template its groups launch from (deploy/templates.ts).
 */
import type { Clients } from '../aws/clients.js'
import { SettingError } from '../errors.js'
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import type { Failure } from '../model/failure.js'
import { inspectGroups, requireGroups } from './ops/groups.js'
import { activeInstanceRefresh, RefreshInProgressError } from './ops/instance-refresh.js'
import { describeLaunchTemplate, type LaunchTemplateRef } from './ops/template.js'
import type { GroupUsage, PublishedSnapshot, RefreshResult } from './types.js'

export interface PublishTarget {
  /** Name or id. */
  launchTemplate: string
  /** `$Default`, `$Latest` or a version number. */
  sourceVersion: string
  /** Only these groups (each must use the template); undefined: every group that does. */
  groups?: readonly string[]
  /**
   * The template's region; undefined: the clients'. A target in another region would need the
   * snapshot copied there first (one more phase, with that region's clients): refused for now.
   */
  region?: string
}

export interface InstanceRefreshSettings {
  minHealthyPercentage: number
  wait: boolean
  timeoutMs: number
}

/** How the snapshot is published, the same for every target. */
export interface PublishSettings {
  targets: readonly PublishTarget[]
  /** The code device, whose mapping each new version points at the snapshot. */
  device: string
  setDefault: boolean
  /** MiB/s for the code mapping; undefined keeps the source version's. */
  volumeInitializationRate?: number
  instanceRefresh?: InstanceRefreshSettings
}

/** A target as read before anything changed. */
export interface PreparedTarget {
  target: PublishTarget
  template: LaunchTemplateRef
  groups: GroupUsage[]
}

/** What became of one target: each is reported on its own. */
export interface TargetReport {
  template: LaunchTemplateRef
  groups: GroupUsage[]
  published?: PublishedSnapshot
  refreshes: RefreshResult[]
  /** In phase `publish` or `refresh`. */
  failure?: Failure
}

/**
 * The prepare phase, read-only: a wrong template, a wrong group or a refresh already running
 * fails here, before any change.
 */
export async function prepareTargets(
  clients: Pick<Clients, 'ec2' | 'autoscaling' | 'region'>,
  settings: Pick<PublishSettings, 'targets' | 'instanceRefresh'>
): Promise<PreparedTarget[]> {
  const prepared: PreparedTarget[] = []
  for (const target of settings.targets) {
    checkRegion(target, clients.region)
    const template = await describeLaunchTemplate(clients.ec2, target.launchTemplate)
    const groups: GroupUsage[] = []
    for (const asgName of target.groups ?? [undefined]) {
      groups.push(
        ...(await inspectGroups(clients.autoscaling, template, asgName ? { asgName } : {}))
      )
    }
    if (settings.instanceRefresh) await checkRefreshable(clients.autoscaling, template, groups)
    prepared.push({ target, template, groups })
  }
  return prepared
}

function checkRegion(target: PublishTarget, region: string): void {
  if (target.region === undefined || target.region === region) return
  throw new SettingError(
    'region',
    `is ${region}, and launch template ${target.launchTemplate} is in ${target.region}. Expected the template's region: publishing to another region (copying the snapshot there first) is not supported yet.`
  )
}

async function checkRefreshable(
  autoscaling: AutoScalingClient,
  template: LaunchTemplateRef,
  groups: readonly GroupUsage[]
): Promise<void> {
  const refreshed = groups.filter((g) => g.follows !== 'pinned')
  requireGroups(refreshed, template)
  for (const g of refreshed) {
    const active = await activeInstanceRefresh(autoscaling, g.name)
    if (active) throw new RefreshInProgressError(g.name, active.InstanceRefreshId, active.Status)
  }
}

/** One line per target for the step's failure message: which template, what went wrong. */
export function targetFailure(reports: readonly TargetReport[]): Failure | undefined {
  const failed = reports.filter((r) => r.failure)
  if (failed.length === 0) return undefined
  if (reports.length === 1) return failed[0]!.failure
  return {
    phase: failed[0]!.failure!.phase,
    message: failed.map((r) => `${r.template.name}: ${r.failure!.message}`).join('; ')
  }
}
