/** rollout: inputs -> the rollout flow -> outputs, summary, annotations. */
import * as core from '@actions/core'
import { ActionError } from '../../errors.js'
import { runRolloutFlow, type RolloutFlowResult } from '../../flows/rollout.js'
import { describeRollback } from '../../rollout/rollback.js'
import { commandLinks, rolloutFailure, rolloutTable, rolloutTotals } from '../../report/rollout.js'
import { trafficReport } from '../../report/traffic.js'
import { alarmsSection } from '../../report/alarms.js'
import { releaseSection } from '../../report/release.js'
import { readAlarmInputs } from '../shared/alarms.js'
import { withDeployedCommit } from '../shared/commit.js'
import { provenance } from '../shared/context.js'
import { markMainStep, runnerState } from '../shared/post.js'
import { rolloutOutputs } from '../shared/rollout.js'
import { readRolloutFlowOptions } from './options.js'
import {
  clientsFromInputs,
  readInputs,
  runAction,
  runnerRuntime,
  setOutputs
} from '../shared/runner.js'
import { FIELDS } from './fields.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    markMainStep()
    const inputs = readInputs()
    const ctx = await withDeployedCommit(inputs, provenance())
    const options = { ...readRolloutFlowOptions(inputs, ctx), ...readAlarmInputs(inputs) }
    const clients = clientsFromInputs(inputs, 'rollout')

    const result = await runRolloutFlow(clients, options, runnerRuntime(), runnerState)
    setOutputs({
      ...rolloutOutputs(result.rollout),
      'rolled-back-instance-ids': result.rollback?.rolledBack ?? [],
      release: result.release?.id ?? '',
      releases: result.release?.hosts ?? {}
    })
    await writeSummary(result, clients.region)
    const { rollout, rollback, settled } = result
    if (!rollout.ok)
      throw new ActionError(`${rolloutFailure(rollout)}${describeRollback(rollback)}`)
    // The post step runs only after a failure: a host left out of service must fail the step.
    const left = settled.filter((s) => !s.ok)
    if (left.length)
      throw new ActionError(
        `The rollout succeeded, but ${left.length} thing(s) could not be cleaned up; the post step tries again: ${left.map((s) => s.outcome).join(' ')}`
      )
  }, FIELDS)
}

async function writeSummary(result: RolloutFlowResult, region: string): Promise<void> {
  const { rollout, plan } = result
  await core.summary
    .addRaw(`## rollout${rollout.dryRun ? ' (dry run)' : ''}\n\n${rolloutTotals(rollout)}\n\n`)
    .addRaw(`${rolloutTable(rollout)}\n\n`)
    .addRaw(result.alarms ? `${alarmsSection(result.alarms, result.rollback)}\n\n` : '')
    .addRaw(result.release ? `${releaseSection(result.release)}\n\n` : '')
    .addRaw(
      plan.targetGroups.length ? `${trafficReport(plan, result.traffic, rollout.results)}\n\n` : ''
    )
    .addRaw(`${commandLinks(rollout, region)}\n`)
    .write()
}
