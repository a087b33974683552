/**
 * The deploy's snapshot, beside the rollout: started as soon as the primary succeeded,
 * recorded in the journal the moment it exists, and left to complete while the fleet deploys.
 */
import { errorMessage } from '../errors.js'
import { createCodeSnapshot } from '../snapshot/create.js'
import { SnapshotFailedError, waitOrMarkFailed } from '../snapshot/wait.js'
import type { DeployRun } from './pipeline.js'

export function startSnapshot(run: DeployRun, instanceId: string): void {
  const { clients, options, result, runtime, journal } = run
  const { timeoutMs, ...spec } = options.snapshot
  const source = { kind: 'instance' as const, instanceId, device: options.device }
  run.snapshotTask = run.phases
    .run('snapshot', async () => {
      // Retention selects a template's snapshots by this tag (the first target's, today).
      const launchTemplateId = run.prepared[0]?.template.id
      const request = {
        ...spec,
        source,
        dryRun: options.dryRun,
        ...(launchTemplateId ? { launchTemplateId } : {})
      }
      result.snapshot = await createCodeSnapshot(clients.ec2, clients.ssm, request, runtime)
      result.snapshotState = result.snapshot.state
      if (options.dryRun) return
      const snapshotId = result.snapshot.snapshotId
      journal.take({ kind: 'snapshot', snapshotId })
      runtime.log.info(`Snapshot ${snapshotId} started; it completes while the fleet deploys.`)
      try {
        result.completion = await waitOrMarkFailed(clients.ec2, snapshotId, { timeoutMs }, runtime)
      } catch (err) {
        if (err instanceof SnapshotFailedError) {
          // Already tagged failed by the wait: nothing left to release.
          result.snapshotState = 'error'
          journal.release({ kind: 'snapshot', snapshotId }, 'ended in error')
        }
        throw err
      }
      result.snapshotState = 'completed'
    })
    .catch((err: unknown) => {
      run.snapshotError = err
      runtime.log.error(`The snapshot failed, so nothing will be published: ${errorMessage(err)}`, {
        title: 'Snapshot failed'
      })
    })
}
