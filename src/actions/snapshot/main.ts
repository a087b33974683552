/** snapshot: inputs -> runPublishFlow (every AWS call is there) -> outputs, summary, annotations. */
import * as core from '@actions/core'
import { ActionError } from '../../errors.js'
import { snapshotReport } from '../../report/snapshot.js'
import { runPublishFlow } from '../../flows/publish.js'
import { withDeployedCommit } from '../shared/commit.js'
import { provenance } from '../shared/context.js'
import {
  clientsFromInputs,
  readInputs,
  runAction,
  runnerRuntime,
  setOutputs
} from '../shared/runner.js'
import { snapshotOutputs } from '../shared/snapshot.js'
import { readSnapshotActionSettings } from './options.js'
import { FIELDS } from './fields.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = readInputs()
    const ctx = await withDeployedCommit(inputs, provenance())
    const options = readSnapshotActionSettings(inputs, ctx)
    const clients = clientsFromInputs(inputs, 'snapshot')

    const result = await runPublishFlow(clients, options, runnerRuntime())
    setOutputs(snapshotOutputs(result))
    await core.summary
      .addRaw(
        `## snapshot${result.dryRun ? ' (dry run)' : ''}\n\n${snapshotReport(result, clients.region)}`
      )
      .write()
    // setFailed (in runAction) makes it an error annotation.
    if (result.failure) throw new ActionError(result.failure.message)
  }, FIELDS)
}
