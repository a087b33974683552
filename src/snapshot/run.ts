/**
 * The snapshot action from end to end: read-only checks first (template, groups, running
 * refreshes), then snapshot, wait, publish, refresh, retention. Anything that fails after the
 * snapshot exists is returned as `failure` with everything done so far, so the caller can still
 * report the snapshot id and what changed.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import type { Clients } from '../aws/clients.js'
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { Runtime } from '../runtime.js'
import { ActionError, errorMessage } from '../errors.js'
import type { Log } from '../log.js'
import { createCodeSnapshot, type CreateSnapshotOptions } from './create.js'
import { markSnapshotFailed } from './failed.js'
import { inspectGroups, picksUp, pinnedGroupWarning, requireGroups } from './groups.js'
import { publishSnapshot } from './publish.js'
import {
  activeInstanceRefresh,
  RefreshInProgressError,
  startInstanceRefresh,
  waitForInstanceRefresh
} from './refresh.js'
import { applyRetention } from './retention.js'
import { describeLaunchTemplate, type LaunchTemplateRef } from './template.js'
import type {
  CreatedSnapshot,
  GroupUsage,
  PublishedSnapshot,
  RefreshResult,
  RetentionResult,
  SnapshotCompletion
} from './types.js'
import { SnapshotFailedError, waitForSnapshot, type WaitOptions } from './wait.js'

export const DEFAULT_DEVICE = '/dev/sdf'

export interface SnapshotActionOptions {
  snapshot: Omit<CreateSnapshotOptions, 'dryRun'>
  /** Wait for `completed` (required to publish). */
  wait: boolean
  timeoutMs: number
  publish?: {
    launchTemplate: string
    sourceVersion: string
    setDefault: boolean
    /** The code device in the template; defaults to the device the volume was found at. */
    device?: string
  }
  /** Only this group (it must use the template); otherwise every group that does. */
  asgName?: string
  instanceRefresh?: { minHealthyPercentage: number; wait: boolean; timeoutMs: number }
  retention: { keepSnapshots: number; keepVersions: number }
  dryRun: boolean
}

export type SnapshotPhase = 'wait' | 'publish' | 'refresh' | 'retention'

export interface SnapshotActionResult {
  snapshot: CreatedSnapshot
  /** The last known state: pending, completed, error or dry-run. */
  state: string
  completion?: SnapshotCompletion
  /** The template as read before anything was made. */
  template?: LaunchTemplateRef
  published?: PublishedSnapshot
  groups: GroupUsage[]
  refreshes: RefreshResult[]
  retention?: RetentionResult
  failure?: { phase: SnapshotPhase; message: string }
  dryRun: boolean
}

export type SnapshotClients = Clients

/** The template and its groups, read (and refreshes checked) before anything is made. */
export interface PreparedPublish {
  template: LaunchTemplateRef
  groups: GroupUsage[]
}

/**
 * Read-only checks: a wrong template, a wrong group or a refresh already running fails here,
 * before any change.
 */
export async function preparePublish(
  clients: Pick<SnapshotClients, 'ec2' | 'autoscaling'>,
  options: SnapshotActionOptions
): Promise<PreparedPublish | undefined> {
  if (!options.publish) return undefined
  const template = await describeLaunchTemplate(clients.ec2, options.publish.launchTemplate)
  const groups = await inspectGroups(clients.autoscaling, template, { asgName: options.asgName })
  if (options.instanceRefresh) {
    const targets = groups.filter((g) => g.follows !== 'pinned')
    requireGroups(targets, template)
    for (const g of targets) {
      const active = await activeInstanceRefresh(clients.autoscaling, g.name)
      if (active) throw new RefreshInProgressError(g.name, active.InstanceRefreshId, active.Status)
    }
  }
  return { template, groups }
}

export interface PublishOutcome {
  published?: PublishedSnapshot
  refreshes: RefreshResult[]
  failure?: { phase: SnapshotPhase; message: string }
}

/** Publishes a completed snapshot, reports what each group follows, refreshes if asked. */
export async function publishAndRefresh(
  clients: SnapshotClients,
  options: SnapshotActionOptions,
  prepared: PreparedPublish,
  snapshot: CreatedSnapshot,
  runtime: Runtime
): Promise<PublishOutcome> {
  const { log } = runtime
  const outcome: PublishOutcome = { refreshes: [] }
  let phase: SnapshotPhase = 'publish'
  try {
    outcome.published = await publishSnapshot(clients.ec2, {
      ...options.publish!,
      snapshotId: snapshot.snapshotId,
      device: options.publish!.device ?? snapshot.device ?? DEFAULT_DEVICE,
      volume: snapshot.volume,
      run: options.snapshot.run,
      expectedDefaultVersion: prepared.template.defaultVersion,
      dryRun: options.dryRun,
      log
    })
    reportGroups(prepared.groups, prepared.template, outcome.published, log)
    if (options.instanceRefresh) {
      phase = 'refresh'
      outcome.refreshes = await refreshGroups(
        clients.autoscaling,
        prepared.groups.filter((g) => picksUp(g, outcome.published!.isDefault || options.dryRun)),
        options.instanceRefresh,
        options.dryRun,
        runtime
      )
    }
  } catch (err) {
    outcome.failure = { phase, message: errorMessage(err) }
  }
  return outcome
}

/** Retention for the snapshots named like this one and, optionally, the template's versions. */
export function retain(
  ec2: EC2Client,
  options: SnapshotActionOptions,
  prepared: PreparedPublish | undefined,
  snapshot: CreatedSnapshot,
  log: Log
): Promise<RetentionResult> {
  return applyRetention(ec2, {
    name: snapshot.name,
    keepSnapshots: options.retention.keepSnapshots,
    keepVersions: options.retention.keepVersions,
    ...(prepared ? { launchTemplateId: prepared.template.id } : {}),
    protectSnapshotIds: snapshot.snapshotId ? [snapshot.snapshotId] : [],
    protectVersions: (prepared?.groups ?? [])
      .filter((g) => g.follows === 'pinned')
      .map((g) => Number(g.version)),
    upcomingSnapshot: options.dryRun,
    dryRun: options.dryRun,
    log
  })
}

/**
 * Marks the snapshot failed when it ended in `error`, then rethrows, so a broken snapshot is
 * never mistaken for a good one.
 */
export async function waitOrMarkFailed(
  ec2: EC2Client,
  snapshotId: string,
  options: WaitOptions,
  runtime: Runtime
): Promise<SnapshotCompletion> {
  try {
    return await waitForSnapshot(ec2, snapshotId, options, runtime)
  } catch (err) {
    if (err instanceof SnapshotFailedError) {
      await markSnapshotFailed(ec2, snapshotId, err.stateMessage).catch((e: unknown) =>
        runtime.log.warning(`Could not tag ${snapshotId} as failed: ${errorMessage(e)}`)
      )
    }
    throw err
  }
}

export async function runSnapshotAction(
  clients: SnapshotClients,
  options: SnapshotActionOptions,
  runtime: Runtime
): Promise<SnapshotActionResult> {
  const { ec2 } = clients
  const { log } = runtime
  if (options.publish && !options.wait && !options.dryRun) {
    // Instances cannot launch from a snapshot that has not completed.
    throw new ActionError('Publishing a snapshot needs wait: true.')
  }
  const prepared = await preparePublish(clients, options)

  const snapshot = await createCodeSnapshot(
    ec2,
    clients.ssm,
    {
      ...options.snapshot,
      dryRun: options.dryRun
    },
    runtime
  )
  const result: SnapshotActionResult = {
    snapshot,
    state: snapshot.state,
    ...(prepared ? { template: prepared.template } : {}),
    groups: prepared?.groups ?? [],
    refreshes: [],
    dryRun: options.dryRun
  }
  if (options.wait && !options.dryRun) {
    try {
      result.completion = await waitOrMarkFailed(
        ec2,
        snapshot.snapshotId,
        { timeoutMs: options.timeoutMs },
        runtime
      )
      result.state = 'completed'
    } catch (err) {
      if (err instanceof SnapshotFailedError) result.state = 'error'
      result.failure = { phase: 'wait', message: errorMessage(err) }
      return result
    }
  }
  if (prepared) {
    const outcome = await publishAndRefresh(clients, options, prepared, snapshot, runtime)
    if (outcome.published) result.published = outcome.published
    result.refreshes = outcome.refreshes
    if (outcome.failure) {
      result.failure = outcome.failure
      return result
    }
  }
  try {
    result.retention = await retain(ec2, options, prepared, snapshot, log)
  } catch (err) {
    result.failure = { phase: 'retention', message: errorMessage(err) }
  }
  return result
}

function reportGroups(
  groups: readonly GroupUsage[],
  template: LaunchTemplateRef,
  published: PublishedSnapshot,
  log: Log
): void {
  if (groups.length === 0) {
    log.info(`No Auto Scaling group launches from ${template.name} (${template.id}).`)
  }
  for (const g of groups) {
    if (g.follows === 'pinned') {
      log.warning(pinnedGroupWarning(g, template, published.version), {
        title: `Auto Scaling group ${g.name} is pinned to version ${g.version}`
      })
    } else if (g.follows === 'default' && !published.isDefault && !published.dryRun) {
      log.warning(
        `Auto Scaling group ${g.name} follows the default version, which is still ${published.previousDefaultVersion} (set-default: false): it keeps launching old code.`
      )
    } else {
      log.info(`Auto Scaling group ${g.name} follows ${g.version}: new instances get the new code.`)
    }
  }
}

async function refreshGroups(
  autoscaling: AutoScalingClient,
  groups: readonly GroupUsage[],
  settings: NonNullable<SnapshotActionOptions['instanceRefresh']>,
  dryRun: boolean,
  runtime: Runtime
): Promise<RefreshResult[]> {
  const { log } = runtime
  const results: RefreshResult[] = []
  for (const g of groups) {
    if (dryRun) {
      log.info(`Dry run: would start an instance refresh of ${g.name}.`)
      results.push({ groupName: g.name, status: 'dry-run' })
      continue
    }
    const refreshId = await startInstanceRefresh(autoscaling, g.name, settings)
    log.info(`Started instance refresh ${refreshId} of ${g.name}.`)
    results.push({ groupName: g.name, refreshId, status: 'Pending' })
  }
  if (!settings.wait || dryRun) return results
  for (const [i, r] of results.entries()) {
    results[i] = await waitForInstanceRefresh(
      autoscaling,
      r.groupName,
      r.refreshId!,
      { timeoutMs: settings.timeoutMs },
      runtime
    )
  }
  return results
}
