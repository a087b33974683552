/**
 * The deploy's snapshot, beside the rollout: started as soon as the primary succeeded,
 * recorded in the journal the moment it exists, and left to complete while the fleet deploys.
 * It is the deploy's critical path (the primary's commands, then the snapshot completing), so
 * a sync runs inside the primary's own last command and the completion is polled tightly.
 */
import { errorMessage } from '../errors.js'
import { CRITICAL_BACKOFF } from '../poll.js'
import type { RolloutOptions } from '../rollout/run.js'
import { withFlush } from '../rollout/script.js'
import { createCodeSnapshot } from '../snapshot/create.js'
import { launchTemplateTag } from '../snapshot/ops/tags.js'
import { SnapshotFailedError, waitOrMarkFailed } from '../snapshot/wait.js'
import type { DeployRun } from './pipeline.js'

/**
 * With consistency: sync, the primary's last script (its run-once, else its commands) ends with
 * the flush, so the snapshot starts the moment that command ends, without a separate `sync`
 * command's delivery and polling. freeze keeps its own commands: they bracket CreateSnapshot.
 */
export function primaryFlush(run: DeployRun): Pick<RolloutOptions, 'primaryLastScript'> {
  const { consistency } = run.options.snapshot
  if (consistency.mode !== 'sync' || run.options.dryRun) return {}
  const { runOnceScript, script } = run.options.rollout
  return { primaryLastScript: withFlush(runOnceScript ?? script, consistency.mountPoint) }
}

/** `flushed`: the primary's last command ended with the flush (primaryFlush). */
export function startSnapshot(run: DeployRun, instanceId: string, flushed = false): void {
  const { clients, options, result, runtime, journal } = run
  const { timeoutMs, ...spec } = options.snapshot
  const source = { kind: 'instance' as const, instanceId, device: options.device }
  run.snapshotTask = run.phases
    .run('snapshot', async () => {
      // Retention selects a template's snapshots by this tag: every target's id.
      const launchTemplateId = launchTemplateTag(run.prepared.map((p) => p.template.id))
      const request = {
        ...spec,
        source,
        dryRun: options.dryRun,
        flushedOnHost: flushed,
        ...(launchTemplateId ? { launchTemplateId } : {})
      }
      result.snapshot = await createCodeSnapshot(clients.ec2, clients.ssm, request, runtime)
      result.snapshotState = result.snapshot.state
      if (options.dryRun) return
      const snapshotId = result.snapshot.snapshotId
      journal.take({ kind: 'snapshot', snapshotId })
      runtime.log.info(`Snapshot ${snapshotId} started; it completes while the fleet deploys.`)
      try {
        const wait = { timeoutMs, backoff: CRITICAL_BACKOFF }
        result.completion = await waitOrMarkFailed(clients.ec2, snapshotId, wait, runtime)
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
      if (runtime.signal.aborted) {
        runtime.log.warning(`The deploy was cancelled, so the snapshot will not be published.`)
        return
      }
      runtime.log.error(`The snapshot failed, so nothing will be published: ${errorMessage(err)}`, {
        title: 'Snapshot failed'
      })
    })
}
