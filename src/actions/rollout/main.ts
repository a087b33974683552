/** rollout: inputs -> (resolve hosts) -> runRollout -> outputs, summary, annotations. */
import * as core from '@actions/core'
import { ActionError, InputError } from '../../errors.js'
import { resolveHosts } from '../../hosts/resolve.js'
import { commandLinks, rolloutFailure, rolloutTable, rolloutTotals } from '../../report/rollout.js'
import { runRollout } from '../../rollout/run.js'
import type { RolloutResult } from '../../rollout/types.js'
import { makeRuntime } from '../../runtime.js'
import { withDeployedCommit } from '../shared/commit.js'
import { runContext } from '../shared/context.js'
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
import { recordSentCommands, watchForCancellation } from './post.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    const onCommandSent = recordSentCommands()
    const inputs = readInputs()
    const instanceIds = readInstanceIds(inputs)
    const query = readHostQuery(inputs, { requireSelector: false })
    if (instanceIds.length && (query.tags.size || query.asgName)) {
      throw new InputError(
        'instance-ids',
        'is set together with tags or asg-name. Expected one way to choose the hosts: instance-ids, or tags and/or asg-name.'
      )
    }
    if (!instanceIds.length && !query.tags.size && !query.asgName) {
      throw new InputError(
        'instance-ids',
        "is empty and neither tags nor asg-name is set. Expected the hosts: instance-ids (e.g. resolve-hosts' instance-ids output), or tags and/or asg-name."
      )
    }
    const settings = readRolloutSettings(inputs, await withDeployedCommit(inputs, runContext()))
    // Checked before any change; applied once the rollout awaits the traffic steps (README).
    readTrafficSettings(inputs)
    const clients = clientsFromInputs(inputs, 'rollout')

    let targets = instanceIds
    if (!targets.length) {
      core.info(`Looking for instances in ${clients.region}: ${query.description}`)
      targets = (await resolveHosts(clients, query)).hosts.map((h) => h.instanceId)
      if (!targets.length)
        throw new ActionError(
          `No running instance matched ${query.description} in ${clients.region}.`
        )
    }

    const abort = watchForCancellation()
    const result = await runRollout(
      clients.ssm,
      { ...settings, instanceIds: targets },
      makeRuntime({ log: runnerLog, signal: abort.signal }),
      { onCommandSent: (c) => onCommandSent(c.commandId) }
    )
    setOutputs(rolloutOutputs(result))
    await writeSummary(result, clients.region)
    if (!result.ok) throw new ActionError(rolloutFailure(result))
  })
}

async function writeSummary(result: RolloutResult, region: string): Promise<void> {
  await core.summary
    .addRaw(`## rollout${result.dryRun ? ' (dry run)' : ''}\n\n${rolloutTotals(result)}\n\n`)
    .addRaw(`${rolloutTable(result)}\n\n`)
    .addRaw(`${commandLinks(result, region)}\n`)
    .write()
}
