/**
 * deploy: the whole pipeline in one process, holding the state three separate steps cannot.
 *
 *   resolve -> rollout (run-once, canary, waves)
 *                 `-- as soon as the primary succeeded: snapshot its code volume, and let the
 *                     snapshot complete while the other waves run
 *           -> publish, only if the whole fleet succeeded (else: tag or delete the snapshot)
 *           -> catch-up: instances launched meanwhile from the old version get the rollout
 *           -> retention
 */
import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling'
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { Clients } from '../aws/clients.js'
import { ActionError, errorMessage, InputError } from '../errors.js'
import type { Host } from '../hosts/host.js'
import { resolveHosts, type HostQuery } from '../hosts/resolve.js'
import type { Log } from '../log.js'
import { runRollout, type RolloutOptions } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import { createCodeSnapshot, type SnapshotSpec } from '../snapshot/create.js'
import { discardSnapshot, markSnapshotFailed } from '../snapshot/failed.js'
import { publishToTargets } from '../snapshot/publishing.js'
import { refreshTargets } from '../snapshot/refresh.js'
import { retain, type RetentionSettings } from '../snapshot/retain.js'
import {
  type PreparedTarget,
  prepareTargets,
  type PublishSettings,
  type PublishTarget,
  targetFailure,
  type TargetReport
} from '../snapshot/targets.js'
import type { CreatedSnapshot, RetentionResult, SnapshotCompletion } from '../snapshot/types.js'
import { SnapshotFailedError, waitOrMarkFailed } from '../snapshot/wait.js'
import { catchUp, type CatchUpResult } from './catch-up.js'
import { Phases } from './phases.js'

export interface DeployOptions {
  query: HostQuery
  /** The rollout, but for its targets (resolved here). */
  rollout: Omit<RolloutOptions, 'instanceIds'>
  /** The code volume's device on the primary, and the device each template maps. */
  device: string
  /** The snapshot of the primary's code volume, and how long it may take to complete. */
  snapshot: SnapshotSpec & { timeoutMs: number }
  publish: Omit<PublishSettings, 'targets' | 'device'> & { targets: readonly DeployTarget[] }
  retention: RetentionSettings
  /** A failed rollout's snapshot: tagged failed (kept for inspection) or deleted. */
  onFailure: 'tag' | 'delete'
  catchUp: { maxRounds: number; readyTimeoutMs: number }
  dryRun: boolean
}

/** A publish target whose template may be left to the deploy to find. */
export type DeployTarget = Omit<PublishTarget, 'launchTemplate'> & {
  /** Undefined: the template of the hosts' group, else the one the primary was launched from. */
  launchTemplate?: string
}

export type DeployClients = Clients

export interface DeployResult {
  ok: boolean
  /** What failed, for the step's message. */
  failure?: string
  hosts: Host[]
  rollout?: RolloutResult
  snapshot?: CreatedSnapshot
  /** pending, completed, error, failed (the rollout failed), deleted, dry-run. */
  snapshotState?: string
  completion?: SnapshotCompletion
  /** The targets, their templates and groups, read before anything changed. */
  prepared?: PreparedTarget[]
  /** One per target, once published (or failed to). */
  targets?: TargetReport[]
  catchUp?: CatchUpResult
  retention?: RetentionResult
  phases: Phases
  dryRun: boolean
}

export interface DeployHooks {
  /** Each command as soon as it is sent (the post step cancels what is still running). */
  onCommandSent?: (commandId: string) => void
}

/** Where the template comes from when launch-template is not given. */
function inferTemplate(
  query: HostQuery,
  group: AutoScalingGroup | undefined,
  primary: Host
): string {
  const spec =
    group?.LaunchTemplate ??
    group?.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification
  const fromGroup = spec?.LaunchTemplateId ?? spec?.LaunchTemplateName
  if (fromGroup) return fromGroup
  if (primary.launchTemplateId) return primary.launchTemplateId
  throw new InputError(
    'launch-template',
    `is not set, and ${query.asgName ? `Auto Scaling group ${query.asgName} names none and ` : ''}the primary ${primary.instanceId} was not launched from a launch template. Expected the launch template to publish the snapshot to.`
  )
}

export async function runDeploy(
  clients: DeployClients,
  options: DeployOptions,
  runtime: Runtime,
  hooks: DeployHooks = {}
): Promise<DeployResult> {
  const { log } = runtime
  const phases = new Phases(runtime.clock)
  const result: DeployResult = { ok: false, hosts: [], phases, dryRun: options.dryRun }

  // 1. Resolve, and every read-only check, before anything changes.
  const resolved = await phases.run('resolve', () => resolveHosts(clients, options.query))
  result.hosts = resolved.hosts
  log.info(`Hosts: ${resolved.hosts.length} matching ${resolved.description}`)
  const primary = resolved.hosts[0]
  if (!primary) throw new ActionError(`No running instance matched ${resolved.description}.`)
  const targets = options.publish.targets.map((t) => ({
    ...t,
    launchTemplate: t.launchTemplate || inferTemplate(options.query, resolved.group, primary)
  }))
  const prepared = await prepareTargets(clients, { ...options.publish, targets })
  result.prepared = prepared
  for (const { template } of prepared) {
    log.info(
      `Publishing to launch template ${template.name} (${template.id}), default version ${template.defaultVersion} now.`
    )
  }

  // 2 + 3. The rollout; the primary's snapshot starts as soon as the primary succeeded.
  let snapshotTask: Promise<void> | undefined
  let snapshotError: unknown
  const { timeoutMs, ...spec } = options.snapshot
  const startSnapshot = (instanceId: string): void => {
    snapshotTask = phases
      .run('snapshot', async () => {
        result.snapshot = await createCodeSnapshot(
          clients.ec2,
          clients.ssm,
          {
            ...spec,
            source: { kind: 'instance', instanceId, device: options.device },
            dryRun: options.dryRun
          },
          runtime
        )
        result.snapshotState = result.snapshot.state
        if (options.dryRun) return
        log.info(
          `Snapshot ${result.snapshot.snapshotId} started; it completes while the fleet deploys.`
        )
        result.completion = await waitOrMarkFailed(
          clients.ec2,
          result.snapshot.snapshotId,
          { timeoutMs },
          runtime
        )
        result.snapshotState = 'completed'
      })
      .catch((err: unknown) => {
        snapshotError = err
        if (err instanceof SnapshotFailedError) result.snapshotState = 'error'
        log.error(`The snapshot failed, so nothing will be published: ${errorMessage(err)}`, {
          title: 'Snapshot failed'
        })
      })
  }
  const rolling = phases.run('rollout', () =>
    runRollout(
      clients.ssm,
      { ...options.rollout, instanceIds: resolved.hosts.map((h) => h.instanceId) },
      runtime,
      {
        onCommandSent: (c) => hooks.onCommandSent?.(c.commandId),
        onPrimaryDone: (primaryResult) => startSnapshot(primaryResult.instanceId)
      }
    )
  )
  let rollout: Awaited<typeof rolling>
  try {
    rollout = await rolling
  } catch (err) {
    // An AWS error stopped the rollout: the snapshot already started is never published.
    await snapshotTask
    result.failure = errorMessage(err)
    await settleFailedSnapshot(clients.ec2, result, options.onFailure, log)
    throw err
  }
  result.rollout = rollout
  if (options.dryRun && !snapshotTask && rollout.primaryInstanceId)
    startSnapshot(rollout.primaryInstanceId)
  await snapshotTask

  // 4. Publish only after the whole fleet succeeded.
  if (!rollout.ok) {
    result.failure = rolloutFailureText(rollout)
    await settleFailedSnapshot(clients.ec2, result, options.onFailure, log)
    return result
  }
  if (snapshotError !== undefined || !result.snapshot) {
    result.failure = `The fleet is deployed, but the snapshot failed, so nothing was published and new instances would boot the old code: ${snapshotError === undefined ? 'the primary never succeeded' : errorMessage(snapshotError)}`
    if (result.snapshot?.snapshotId) await settleFailedSnapshot(clients.ec2, result, 'tag', log)
    return result
  }
  const snapshot = result.snapshot
  result.targets = await phases.run('publish', async () => {
    const context = { run: options.snapshot.run, dryRun: options.dryRun, log }
    const settings = { ...options.publish, device: options.device }
    const reports = await publishToTargets(clients.ec2, snapshot, prepared, settings, context)
    const refresh = options.publish.instanceRefresh
    if (refresh)
      await refreshTargets(clients.autoscaling, reports, refresh, options.dryRun, runtime)
    return reports
  })
  const failed = targetFailure(result.targets)
  if (failed) {
    result.failure = failed.message
    return result
  }

  // 5. Catch-up: instances launched meanwhile booted from the old version.
  if (!options.dryRun) {
    // Catch-up follows the first target (the only one today).
    const published = result.targets[0]?.published
    const version = published?.version
    result.catchUp = await phases.run('catch-up', () =>
      catchUp(
        clients,
        {
          query: options.query,
          known: new Set(resolved.hosts.map((h) => h.instanceId)),
          ...(version !== undefined && published?.isDefault
            ? { published: { launchTemplateId: published.launchTemplateId, version } }
            : {}),
          readyTimeoutMs: options.catchUp.readyTimeoutMs,
          maxRounds: options.catchUp.maxRounds,
          rollout: (ids) =>
            runRollout(
              clients.ssm,
              { ...options.rollout, runOnceScript: undefined, canary: 0, instanceIds: ids },
              runtime,
              { onCommandSent: (c) => hooks.onCommandSent?.(c.commandId) }
            )
        },
        runtime
      )
    )
    if (result.catchUp.cancelled) {
      result.failure = `Cancelled during catch-up: the fleet is deployed and the snapshot published, but these instances launched meanwhile may run old code: ${result.catchUp.failed.map((f) => f.instanceId).join(' ') || 'none'}`
    } else if (result.catchUp.failed.length) {
      result.failure = `Instances launched during the deploy could not be caught up and may run old code: ${result.catchUp.failed.map((f) => `${f.instanceId} (${f.reason})`).join('; ')}`
    }
  }

  // 6. Retention.
  result.retention = await phases.run('retention', () =>
    retain(clients.ec2, snapshot, prepared, options.retention, { dryRun: options.dryRun, log })
  )
  result.ok = !result.failure
  return result
}

function rolloutFailureText(rollout: RolloutResult): string {
  return `The rollout failed (${rollout.stoppedReason ?? 'see the hosts below'}): nothing was published; the launch template's default is unchanged.`
}

/** A failed deploy's snapshot is never published: tag it failed, or delete it. */
async function settleFailedSnapshot(
  ec2: EC2Client,
  result: DeployResult,
  onFailure: 'tag' | 'delete',
  log: Log
): Promise<void> {
  const id = result.snapshot?.snapshotId
  if (!id || result.dryRun) return
  try {
    if (onFailure === 'delete') {
      await discardSnapshot(ec2, id)
      result.snapshotState = 'deleted'
      log.info(`Deleted snapshot ${id}: the deploy failed (on-failure: delete).`)
    } else {
      await markSnapshotFailed(ec2, id, result.failure)
      result.snapshotState = 'failed'
      log.info(`Tagged snapshot ${id} as failed: it will never be published.`)
    }
  } catch (err) {
    log.warning(`Could not ${onFailure} snapshot ${id}: ${errorMessage(err)}`)
  }
}
