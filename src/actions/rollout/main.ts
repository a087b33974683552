/** rollout: inputs -> (resolve hosts) -> runRollout -> outputs, summary, annotations. */
import * as core from '@actions/core'
import { ActionError, InputError } from '../../errors.js'
import type { AwsClients } from '../../aws/clients.js'
import { journalTraffic } from '../../deploy/release-traffic.js'
import type { Host } from '../../hosts/host.js'
import { describeHostsById } from './hosts.js'
import { readPrevious, readPreviousSource } from './previous.js'
import { goneInstances } from '../../hosts/gone.js'
import { type HostQuery, resolveHosts } from '../../hosts/resolve.js'
import { commandLinks, rolloutFailure, rolloutTable, rolloutTotals } from '../../report/rollout.js'
import { describeRollback, rollBack, type RollbackResult } from '../../rollout/rollback.js'
import { runRollout } from '../../rollout/run.js'
import type { RolloutResult, SentCommand } from '../../rollout/types.js'
import { makeRuntime } from '../../runtime.js'
import { withDeployedCommit } from '../shared/commit.js'
import { trafficReport } from '../../report/traffic.js'
import { describePlan, planTraffic, type TrafficPlan } from '../../traffic/plan.js'
import { limitRollout, trafficRollout, type TrafficRollout } from '../../traffic/rollout.js'
import { runContext } from '../shared/context.js'
import { readRollbackSettings } from '../shared/rollback.js'
import { readTrafficSettings } from '../shared/traffic.js'
import { readHostQuery } from '../shared/hosts.js'
import { readInstanceIds, readRolloutSettings, rolloutOutputs } from '../shared/rollout.js'
import {
  clientsFromInputs,
  readInputs,
  runAction,
  runnerLog,
  setOutputs
} from '../shared/runner.js'
import { startJournal, watchForCancellation } from './post.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    const journal = startJournal()
    const inputs = readInputs()
    const instanceIds = readInstanceIds(inputs)
    const query = readHostQuery(inputs, { requireSelector: false })
    if (instanceIds.length && (query.tags.size || query.asgNames?.length)) {
      throw new InputError(
        'instance-ids',
        'is set together with tags or asg-name. Expected one way to choose the hosts: instance-ids, or tags and/or asg-name.'
      )
    }
    if (!instanceIds.length && !query.tags.size && !query.asgNames?.length) {
      throw new InputError(
        'instance-ids',
        "is empty and neither tags nor asg-name is set. Expected the hosts: instance-ids (e.g. resolve-hosts' instance-ids output), or tags and/or asg-name."
      )
    }
    const ctx = await withDeployedCommit(inputs, runContext())
    const settings = readRolloutSettings(inputs, ctx)
    const trafficSettings = readTrafficSettings(inputs)
    const rollbackSettings = readRollbackSettings(inputs, ctx)
    const previousSource = readPreviousSource(inputs, rollbackSettings !== undefined)
    const clients = clientsFromInputs(inputs, 'rollout')
    // Read-only, before anything changes: where a rollback would return to.
    const previous = await readPrevious(clients.ec2, previousSource, runnerLog)

    const hosts = await findHosts(clients, instanceIds, query)
    const abort = watchForCancellation()
    const runtime = makeRuntime({ log: runnerLog, signal: abort.signal })
    // Read-only: a fleet too small to keep min-healthy in service is refused here.
    const plan = await planTraffic(clients, hosts, trafficSettings, {
      maxConcurrency: settings.maxConcurrency,
      log: runtime.log
    })
    for (const line of describePlan(plan)) core.info(line)
    const traffic = trafficRollout(clients.elbv2, plan, hosts, runtime, journalTraffic(journal))
    const hooks = {
      onCommandSent: (c: SentCommand) => journal.take({ kind: 'command', commandId: c.commandId }),
      goneHosts: (ids: readonly string[]) => goneInstances(clients.ec2, ids),
      ...(traffic ? { lifecycle: traffic.lifecycle } : {})
    }
    const limited = limitRollout(settings, plan)
    let result: RolloutResult
    let rollback: RollbackResult | undefined
    try {
      result = await runRollout(
        clients.ssm,
        { ...limited, instanceIds: hosts.map((h) => h.instanceId) },
        runtime,
        hooks
      )
      if (!result.ok && !result.dryRun && rollbackSettings) {
        rollback = await rollBack(
          clients.ssm,
          result,
          limited,
          rollbackSettings,
          previous,
          runtime,
          hooks
        )
      }
    } finally {
      // Whatever ended the run, every host taken out of service is registered again.
      await restoreTraffic(traffic)
    }
    setOutputs({
      ...rolloutOutputs(result),
      'rolled-back-instance-ids': rollback?.rolledBack ?? []
    })
    await writeSummary(result, clients.region, plan, traffic)
    if (!result.ok) throw new ActionError(`${rolloutFailure(result)}${describeRollback(rollback)}`)
  })
}

/**
 * The hosts as Host objects (their Auto Scaling group and lifecycle state tell the traffic
 * plan which target groups they serve in and which are in Standby), in the order given.
 */
async function findHosts(
  clients: AwsClients,
  instanceIds: readonly string[],
  query: HostQuery & { description: string }
): Promise<Host[]> {
  if (!instanceIds.length) {
    core.info(`Looking for instances in ${clients.region}: ${query.description}`)
    const { hosts } = await resolveHosts(clients, query)
    if (!hosts.length)
      throw new ActionError(
        `No running instance matched ${query.description} in ${clients.region}.`
      )
    return hosts
  }
  return describeHostsById(clients, instanceIds)
}

async function restoreTraffic(traffic: TrafficRollout | undefined): Promise<void> {
  if (!traffic) return
  const restored = await traffic.traffic.restoreAll()
  for (const r of restored.restored)
    core.info(`Registered ${r.instanceId} again in target group ${r.targetGroupName}.`)
  for (const f of restored.failed) {
    const ids = f.registrations.map((r) => r.instanceId).join(' ')
    core.error(
      `Could not register ${ids} again in target group ${f.registrations[0]?.targetGroupName}: ${f.error}. The post step tries again.`,
      { title: 'Hosts left out of service' }
    )
  }
}

async function writeSummary(
  result: RolloutResult,
  region: string,
  plan: TrafficPlan,
  traffic: TrafficRollout | undefined
): Promise<void> {
  const hosts = traffic ? [...traffic.hosts.values()] : []
  await core.summary
    .addRaw(`## rollout${result.dryRun ? ' (dry run)' : ''}\n\n${rolloutTotals(result)}\n\n`)
    .addRaw(`${rolloutTable(result)}\n\n`)
    .addRaw(plan.targetGroups.length ? `${trafficReport(plan, hosts, result.results)}\n\n` : '')
    .addRaw(`${commandLinks(result, region)}\n`)
    .write()
}
