/** snapshot: inputs -> runSnapshotAction -> outputs, summary, annotations. */
import * as core from '@actions/core'
import { ActionError } from '../../errors.js'
import { snapshotReport } from '../../report/snapshot.js'
import { runSnapshotAction, type SnapshotActionResult } from '../../snapshot/run.js'
import { runContext } from '../shared/context.js'
import {
  clientsFromInputs,
  readInputs,
  runAction,
  runnerLog,
  setOutputs
} from '../shared/runner.js'
import { readSnapshotSettings } from '../shared/snapshot.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = readInputs()
    const options = readSnapshotSettings(inputs, runContext())
    const clients = clientsFromInputs(inputs, 'snapshot')

    const result = await runSnapshotAction(clients, options, runnerLog)
    setOutputs(snapshotOutputs(result))
    await core.summary
      .addRaw(
        `## snapshot${result.dryRun ? ' (dry run)' : ''}\n\n${snapshotReport(result, clients.region)}`
      )
      .write()
    // setFailed (in runAction) makes it an error annotation.
    if (result.failure) throw new ActionError(result.failure.message)
  })
}

/** Every name here is declared in actions/snapshot/action.yml (a test checks). */
export function snapshotOutputs(result: SnapshotActionResult): Record<string, string | object> {
  const published = result.published
  // Under dry run nothing is deleted: the summary lists what would be.
  const retention = result.dryRun ? undefined : result.retention
  return {
    'snapshot-id': result.snapshot.snapshotId,
    'volume-id': result.snapshot.volume.volumeId,
    'snapshot-state': result.state,
    'launch-template-id': published?.launchTemplateId ?? '',
    'launch-template-version': published?.version !== undefined ? String(published.version) : '',
    'previous-default-version': published ? String(published.previousDefaultVersion) : '',
    'deleted-snapshot-ids': retention?.deletedSnapshots.map((s) => s.snapshotId) ?? [],
    'deleted-launch-template-versions': retention?.deletedVersions ?? []
  }
}
