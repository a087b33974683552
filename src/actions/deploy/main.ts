/** deploy: every input parsed up front -> runDeploy -> outputs, one summary, annotations. */
import * as core from '@actions/core'
import type { DeployResult } from '../../deploy/types.js'
import { runDeploy } from '../../flows/deploy.js'
import { ActionError } from '../../errors.js'
import { deployReport } from '../../report/deploy.js'
import { rolloutFailure } from '../../report/rollout.js'
import { withDeployedCommit } from '../shared/commit.js'
import { provenance } from '../shared/context.js'
import { hostOutputs } from '../shared/hosts.js'
import { rolloutOutputs } from '../shared/rollout.js'
import {
  clientsFromInputs,
  readInputs,
  runAction,
  runnerRuntime,
  setOutputs
} from '../shared/runner.js'
import { snapshotOutputs } from '../shared/snapshot.js'
import { markMainStep, runnerState } from '../shared/post.js'
import { FIELDS } from './fields.js'
import { readDeployOptions } from './options.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    markMainStep()
    const inputs = readInputs()
    const ctx = await withDeployedCommit(inputs, provenance())
    const options = readDeployOptions(inputs, ctx)
    const clients = clientsFromInputs(inputs, 'deploy')
    const result = await runDeploy(clients, options, runnerRuntime(), runnerState)
    setOutputs(deployOutputs(result))
    await core.summary.addRaw(deployReport(result, ctx, clients.region)).write()
    // The post step runs only after a failure: whatever is left held must fail the step.
    const left = result.settled.filter((s) => !s.ok).map((s) => s.outcome)
    const leftText = left.length
      ? ` ${left.length} thing(s) could not be cleaned up; the post step tries again: ${left.join(' ')}`
      : ''
    if (!result.ok && !result.dryRun) {
      const hosts = result.rollout && !result.rollout.ok ? ` ${rolloutFailure(result.rollout)}` : ''
      throw new ActionError(`${result.failure?.message ?? 'The deploy failed.'}${hosts}${leftText}`)
    }
    if (left.length) throw new ActionError(`The deploy succeeded, but${leftText}`)
  }, FIELDS)
}

const NO_SNAPSHOT = {
  'snapshot-id': '',
  'volume-id': '',
  'snapshot-state': '',
  'launch-template-id': '',
  'launch-template-version': '',
  'previous-default-version': '',
  'published-versions': [],
  'deleted-snapshot-ids': [],
  'deleted-launch-template-versions': []
}

/** The union of the three actions' outputs, plus what only the whole pipeline knows. */
export function deployOutputs(result: DeployResult): Record<string, string | number | object> {
  const view = result.publish
  const hosts = hostOutputs(result.hosts)
  return {
    ...hosts,
    ...(result.rollout ? rolloutOutputs(result.rollout) : {}),
    ...(view ? snapshotOutputs(view) : NO_SNAPSHOT),
    'caught-up-instance-ids': result.catchUp?.caughtUp ?? [],
    'rolled-back-instance-ids': result.rollback?.rolledBack ?? [],
    release: result.release?.id ?? '',
    // As the hosts were found, then as their scripts left them.
    releases: { ...hosts.releases, ...result.release?.hosts }
  }
}
