/**
 * The deploy's phases, in order. Each reads and writes the one DeployRun and answers whether
 * the deploy goes on; whatever a phase takes (commands, the snapshot) goes into the journal
 * as it is taken, and the pipeline's `finally` releases what is still held.
 */
import { ActionError, errorMessage } from '../errors.js'
import { publishSnapshot, retainSnapshots } from '../flows/publish.js'
import { goneInstances } from '../hosts/gone.js'
import { resolveHosts } from '../hosts/resolve.js'
import type { PreviousRelease } from '../model/release.js'
import { describeRollback, rollBack } from '../rollout/rollback.js'
import { runRollout } from '../rollout/run.js'
import type { HostResult, RolloutResult } from '../rollout/types.js'
import { prepareTargets, type PublishTarget, type TargetReport } from '../snapshot/targets.js'
import { describePlan, planTraffic } from '../traffic/plan.js'
import { limitRollout, trafficRollout } from '../traffic/rollout.js'
import { catchUp } from './catch-up.js'
import { lockTemplates } from './lock.js'
import type { DeployRun } from './pipeline.js'
import { preflight } from './preflight.js'
import { primaryFlush, startSnapshot } from './snapshot.js'
import { previousRelease } from '../snapshot/ops/previous.js'
import { deployTargets } from './templates.js'
import { journalTraffic } from './release-traffic.js'

export interface DeployPhase {
  name: string
  /** False: the deploy stops here (result.failure says why). */
  run(run: DeployRun): Promise<boolean>
  skip?(run: DeployRun): boolean
}

export const DEPLOY_PHASES: readonly DeployPhase[] = [
  { name: 'resolve', run: resolve },
  { name: 'rollout', run: rollout },
  { name: 'publish', run: publish },
  { name: 'catch-up', run: catchUpPhase, skip: (run) => run.options.dryRun },
  { name: 'retention', run: retention }
]

/** Hosts and targets, and every read-only check (pre-flight), before anything changes. */
async function resolve(run: DeployRun): Promise<boolean> {
  const { clients, options, result, runtime } = run
  const resolved = await resolveHosts(clients, options.query)
  result.hosts = resolved.hosts
  runtime.log.info(`Hosts: ${resolved.hosts.length} matching ${resolved.description}`)
  const primary = resolved.hosts[0]
  if (!primary) throw new ActionError(`No running instance matched ${resolved.description}.`)
  const targets: PublishTarget[] = []
  for (const t of options.publish.targets)
    targets.push(...(await deployTargets(clients.ec2, t, resolved.groups, primary)))
  // Before the default version is read: a deploy that waited reads the one its predecessor left.
  await lockTemplates(
    run,
    targets.map((t) => t.launchTemplate)
  )
  run.prepared = await prepareTargets(clients, { ...options.publish, targets })
  result.prepared = run.prepared
  for (const { template } of run.prepared) {
    runtime.log.info(
      `Publishing to launch template ${template.name} (${template.id}), default version ${template.defaultVersion} now.`
    )
  }
  result.preflight = await preflight(
    clients,
    {
      primary: primary.instanceId,
      device: options.device,
      document: options.rollout.document,
      targets: run.prepared
    },
    runtime.log
  )
  return true
}

/**
 * Behind target groups: the plan (read-only, so a fleet too small is refused before anything
 * changes) and the steps that take each host out of service around its commands.
 */
async function planTrafficPhase(run: DeployRun): Promise<void> {
  const { clients, options, result, runtime } = run
  if (!options.traffic) return
  const plan = await planTraffic(clients, result.hosts, options.traffic, {
    maxConcurrency: options.rollout.maxConcurrency,
    log: runtime.log
  })
  for (const line of describePlan(plan)) runtime.log.info(line)
  result.traffic = { plan, hosts: [] }
  const traffic = trafficRollout(clients.elbv2, plan, result.hosts, runtime, {
    ...journalTraffic(run.journal),
    ...(options.rollout.backoff ? { backoff: options.rollout.backoff } : {})
  })
  if (traffic) run.traffic = traffic
}

/** The hosts' timings so far, for the summary. */
function recordTraffic(run: DeployRun): void {
  if (run.result.traffic && run.traffic) run.result.traffic.hosts = [...run.traffic.hosts.values()]
}

/** The rollout; the primary's snapshot starts as soon as the primary is back and healthy. */
async function rollout(run: DeployRun): Promise<boolean> {
  const { options, result, runtime } = run
  await planTrafficPhase(run)
  const previous = await readPrevious(run)
  let rolled: RolloutResult
  try {
    rolled = await rollOut(
      run,
      {
        ...options.rollout,
        ...primaryFlush(run),
        instanceIds: result.hosts.map((h) => h.instanceId)
      },
      true
    )
  } catch (err) {
    // An AWS error stopped the rollout: the snapshot already started is never published.
    await run.snapshotTask
    run.settle = options.onFailure
    throw err
  }
  result.rollout = rolled
  if (options.dryRun && !run.snapshotTask && rolled.primaryInstanceId)
    startSnapshot(run, rolled.primaryInstanceId)
  await run.snapshotTask

  if (!rolled.ok && runtime.signal.aborted) {
    // Said first: the snapshot's wait and the hosts' commands ended because of it, not on their own.
    result.failure = `The deploy was cancelled during the rollout: nothing was published; the launch template's default is unchanged.`
    run.settle = options.onFailure
    return rollBackPhase(run, rolled, previous)
  }
  if (!rolled.ok && run.snapshotError !== undefined) {
    result.failure = `The snapshot failed, so the rollout stopped before any new host started and nothing was published: ${errorMessage(run.snapshotError)}`
    return rollBackPhase(run, rolled, previous)
  }
  const primary = rolled.results.find((r) => r.instanceId === rolled.primaryInstanceId)
  const gone = primary?.status === 'Terminated' || rolled.runOnce?.status === 'Terminated'
  if (primary && gone && !result.snapshot) {
    result.failure = `The primary ${primary.instanceId} was terminated (scale-in or a spot reclaim) before its snapshot was taken, so nothing was published; the launch template's default is unchanged. Deploy again.`
    run.settle = options.onFailure
    return rollBackPhase(run, rolled, previous)
  }
  if (!rolled.ok) {
    result.failure = `The rollout failed (${rolled.stoppedReason ?? 'see the hosts below'}): nothing was published; the launch template's default is unchanged.`
    run.settle = options.onFailure
    return rollBackPhase(run, rolled, previous)
  }
  if (run.snapshotError !== undefined || !result.snapshot) {
    result.failure = `The fleet is deployed, but the snapshot failed, so nothing was published and new instances would boot the old code: ${run.snapshotError === undefined ? 'the primary never succeeded' : errorMessage(run.snapshotError)}`
    return rollBackPhase(run, rolled, previous)
  }
  return true
}

/** Where a rollback would return to, read before anything changes (only with a rollback). */
async function readPrevious(run: DeployRun): Promise<PreviousRelease | undefined> {
  const template = run.prepared[0]?.template
  if (!run.options.rollback || run.options.dryRun) return undefined
  if (!template) return { commit: '', snapshotId: '' }
  return previousRelease(run.clients.ec2, template, run.options.device, run.runtime.log)
}

/**
 * A failed rollout with rollback-commands: the hosts that started go back to the previous
 * release, with the same traffic steps, before the phase ends. Always false: the deploy failed.
 */
async function rollBackPhase(
  run: DeployRun,
  rolled: RolloutResult,
  previous: PreviousRelease | undefined
): Promise<false> {
  const { options, result, runtime } = run
  if (!options.rollback || !previous) return false
  const limited = run.traffic ? limitRollout(options.rollout, run.traffic.plan) : options.rollout
  result.rollback = await rollBack(
    run.clients.ssm,
    rolled,
    limited,
    options.rollback,
    previous,
    runtime,
    {
      onCommandSent: (c) => run.journal.take({ kind: 'command', commandId: c.commandId }),
      ...(run.traffic ? { lifecycle: run.traffic.lifecycle } : {})
    }
  )
  for (const c of result.rollback.rollout?.commands ?? [])
    run.journal.release({ kind: 'command', commandId: c.commandId }, 'ended')
  recordTraffic(run)
  result.failure = `${result.failure ?? 'The deploy failed.'}${describeRollback(result.rollback)}`
  return false
}

/**
 * runRollout with every command it sends in the journal until the rollout has ended. Only the
 * fleet's rollout snapshots its primary: a catch-up round has a "primary" too, and snapshotting
 * it would make a second snapshot of code already published.
 */
async function rollOut(
  run: DeployRun,
  options: Parameters<typeof runRollout>[1],
  snapshotThePrimary = false
): Promise<RolloutResult> {
  const limited = run.traffic ? limitRollout(options, run.traffic.plan) : options
  const rolled = await runRollout(run.clients.ssm, limited, run.runtime, {
    ...(run.traffic ? { lifecycle: run.traffic.lifecycle } : {}),
    goneHosts: (ids) => goneInstances(run.clients.ec2, ids),
    onCommandSent: (c) => run.journal.take({ kind: 'command', commandId: c.commandId }),
    ...(snapshotThePrimary
      ? {
          onPrimaryDone: (primary: HostResult) =>
            startSnapshot(run, primary.instanceId, options.primaryLastScript !== undefined)
        }
      : {}),
    // The code could never be published: no new host starts on it.
    shouldStop: () =>
      run.snapshotError === undefined
        ? undefined
        : `the snapshot failed, so nothing can be published: ${errorMessage(run.snapshotError)}`
  })
  for (const c of rolled.commands) {
    run.journal.release({ kind: 'command', commandId: c.commandId }, 'ended')
  }
  recordTraffic(run)
  return rolled
}

/** Only after the whole fleet succeeded: a new version of every target, refreshes if asked. */
async function publish(run: DeployRun): Promise<boolean> {
  const { clients, options, result, runtime } = run
  const snapshot = result.snapshot!
  const input = {
    snapshot,
    prepared: run.prepared,
    settings: { ...options.publish, device: options.device },
    ...(options.warmPools ? { warmPools: options.warmPools } : {}),
    run: options.snapshot.run,
    dryRun: options.dryRun,
    onPublished: (targets: TargetReport[]) => {
      // Reported even if a refresh or a warm pool throws after this.
      result.targets = targets
      if (targets.some((t) => t.published && !t.published.dryRun))
        run.journal.release({ kind: 'snapshot', snapshotId: snapshot.snapshotId }, 'published')
    }
  }
  const published = await publishSnapshot(clients, input, runtime)
  result.targets = published.targets
  if (published.warmPools) result.warmPools = published.warmPools
  if (published.failure) result.failure = published.failure.message
  return !published.failure
}

/** Instances launched meanwhile booted from the old version: they get the same rollout. */
async function catchUpPhase(run: DeployRun): Promise<boolean> {
  const { clients, options, result } = run
  // Every group's members: any launched meanwhile from an old version of its template.
  const published = (result.targets ?? []).flatMap(({ published: p }) =>
    p?.version !== undefined && p.isDefault
      ? [{ launchTemplateId: p.launchTemplateId, version: p.version }]
      : []
  )
  const caught = await catchUp(
    clients,
    {
      query: options.query,
      known: new Set(result.hosts.map((h) => h.instanceId)),
      published,
      readyTimeoutMs: options.catchUp.readyTimeoutMs,
      maxRounds: options.catchUp.maxRounds,
      rollout: (ids) =>
        rollOut(run, { ...options.rollout, runOnceScript: undefined, canary: 0, instanceIds: ids })
    },
    run.runtime
  )
  result.catchUp = caught
  const left = caught.failed.map((f) => f.instanceId)
  if (caught.cancelled) {
    result.failure = `Cancelled during catch-up: the fleet is deployed and the snapshot published, but these instances launched meanwhile may run old code: ${left.join(' ') || 'none'}`
  } else if (caught.failed.length) {
    result.failure = `Instances launched during the deploy could not be caught up and may run old code: ${caught.failed.map((f) => `${f.instanceId} (${f.reason})`).join('; ')}`
  }
  // Retention still runs: the new version is published whatever catch-up left.
  return true
}

async function retention(run: DeployRun): Promise<boolean> {
  const { clients, options, result, runtime } = run
  const input = {
    snapshot: result.snapshot!,
    prepared: run.prepared,
    retention: options.retention,
    dryRun: options.dryRun
  }
  result.retention = await retainSnapshots(clients, input, runtime)
  return true
}
