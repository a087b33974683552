/**
 * The resolve phase: hosts and targets, the deploy locks, and every read-only check
 * (pre-flight), before anything changes.
 */
import { RolloutGuard } from '../alarms/guard.js'
import { ActionError } from '../errors.js'
import { resolveHosts } from '../hosts/resolve.js'
import { prepareTargets, type PublishTarget } from '../snapshot/targets.js'
import type { DeployContext, Resolved } from './context.js'
import { lockTemplates } from './lock.js'
import { preflight } from './preflight.js'
import { describePlan } from '../report/traffic.js'
import { orderHosts, planTargetGroups, type TrafficSettings, withHealth } from '../traffic/plan.js'
import { deployTargets } from './templates.js'

export async function resolveDeploy(ctx: DeployContext): Promise<Resolved> {
  const { clients, options, runtime } = ctx
  const resolved = await resolveHosts(clients, options.query)
  runtime.log.info(`Hosts: ${resolved.hosts.length} matching ${resolved.description}`)
  if (!resolved.hosts[0])
    throw new ActionError(`No running instance matched ${resolved.description}.`)
  // Before the lock: a wrong target group or a min-healthy too large fails at once.
  const traffic = await planTargetGroups(clients, resolved.hosts, trafficOf(ctx), {
    maxConcurrency: options.rollout.maxConcurrency,
    log: runtime.log
  })
  const targets: PublishTarget[] = []
  for (const t of options.publish.targets)
    targets.push(...(await deployTargets(clients, t, resolved)))
  // Before the first change (the locks): an alarm already firing refuses the deploy. A
  // rollback-to is what an alarm calls for: the alarms never hold it back.
  const watched = options.rollbackTo ? undefined : options.alarms
  const { guard, checked } = await RolloutGuard.preflight(
    clients.cloudwatch,
    {
      ...(watched ? { alarms: watched } : {}),
      ...(options.bakeTimeMs ? { bakeTimeMs: options.bakeTimeMs } : {}),
      // A rollout polled at a test's pace watches its alarms at that pace too.
      ...(options.rollout.backoff ? { backoff: options.rollout.backoff } : {})
    },
    runtime
  )
  // Before the default version is read: a deploy that waited reads the one its predecessor left.
  const restored: string[] = []
  const locks = await lockTemplates(
    ctx,
    targets.map((t) => t.launchTemplate),
    (ids) => restored.push(...ids)
  )
  // After the lock (and a dead run's cleanup), before the first change: the targets' health.
  const plan = await withHealth(clients, traffic, resolved.hosts, trafficOf(ctx), {
    maxConcurrency: options.rollout.maxConcurrency,
    first: restored
  })
  if (options.traffic) for (const line of describePlan(plan)) runtime.log.info(line)
  const hosts = orderHosts(plan, resolved.hosts)
  const primary = hosts[0]!
  const prepared = await prepareTargets(clients, { ...options.publish, targets })
  for (const { template } of prepared) {
    runtime.log.info(
      `Publishing to launch template ${template.name} (${template.id}), default version ${template.defaultVersion} now.`
    )
  }
  const checks = {
    primary: primary.instanceId,
    device: options.device,
    document: options.rollout.document,
    targets: prepared
  }
  const passed = await preflight(clients, checks, runtime.log)
  const lines = checked ? [checked, ...passed] : passed
  return { hosts, plan, prepared, preflight: lines, locks, guard }
}

/** The traffic settings; unset leaves traffic alone. */
function trafficOf(ctx: DeployContext): TrafficSettings {
  return ctx.options.traffic ?? { targetGroups: { auto: false, given: [] } }
}
