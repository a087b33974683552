/**
 * The deploy's snapshot, beside the rollout: started as soon as the primary succeeded,
 * recorded in the journal the moment it exists, and left to complete while the fleet deploys.
 * It is the deploy's critical path (the primary's commands, then the snapshot completing), so
 * a sync runs inside the primary's own last command and the completion is polled tightly.
 */
import { ActionError, errorMessage } from '../errors.js'
import { CRITICAL_BACKOFF } from '../poll.js'
import type { RolloutOptions } from '../rollout/run.js'
import { withFlush } from '../rollout/script.js'
import { type PublishFlowResult, takeSnapshot } from '../flows/publish.js'
import type { PreparedTarget } from '../snapshot/targets.js'
import type { DeployContext } from './context.js'

/**
 * With consistency: sync, the primary's last script (its run-once, else its commands) ends with
 * the flush, so the snapshot starts the moment that command ends, without a separate `sync`
 * command's delivery and polling. freeze keeps its own commands: they bracket CreateSnapshot.
 */
export function primaryFlush(
  ctx: DeployContext,
  rollout: Pick<RolloutOptions, 'runOnceScript' | 'script'>
): Pick<RolloutOptions, 'primaryLastScript'> {
  const { consistency } = ctx.options.snapshot
  if (consistency.mode !== 'sync' || ctx.options.dryRun) return {}
  const { runOnceScript, script } = rollout
  return { primaryLastScript: withFlush(runOnceScript ?? script, consistency.mountPoint) }
}

/** The snapshot as far as it got (undefined: never created), and why it failed. */
export interface SnapshotOutcome {
  snapshot?: PublishFlowResult
  error?: unknown
}

export class SnapshotBeside {
  private task?: Promise<void>
  private result?: PublishFlowResult
  /** Set the moment it fails, so the rollout starts no new host on code never published. */
  error?: unknown

  constructor(
    private readonly ctx: DeployContext,
    private readonly prepared: readonly PreparedTarget[],
    /** The release on the primary's volume once it switched: the snapshot is tagged with it. */
    private readonly release?: string
  ) {}

  get started(): boolean {
    return this.task !== undefined
  }

  /** `flushed`: the primary's last command ended with the flush (primaryFlush). */
  start(instanceId: string, flushed = false): void {
    if (this.task) return
    this.task = this.ctx.phases
      .run('snapshot', () => this.take(instanceId, flushed))
      .catch((err: unknown) => this.failed(err))
  }

  /** Once it ended (completed, failed, or never started). */
  async outcome(): Promise<SnapshotOutcome> {
    await this.task
    return {
      ...(this.result ? { snapshot: this.result } : {}),
      ...(this.error !== undefined ? { error: this.error } : {})
    }
  }

  private async take(instanceId: string, flushed: boolean): Promise<void> {
    const { clients, options, runtime, journal } = this.ctx
    const { timeoutMs, ...spec } = options.snapshot
    const taken = await takeSnapshot(
      clients,
      {
        source: { kind: 'instance', instanceId, device: options.device },
        snapshot: { ...spec, ...(this.release ? { release: this.release } : {}) },
        prepared: this.prepared,
        wait: true,
        timeoutMs,
        backoff: CRITICAL_BACKOFF,
        flushedOnHost: flushed,
        dryRun: options.dryRun,
        onCreated: ({ snapshotId }) => {
          journal.take({ kind: 'snapshot', snapshotId })
          runtime.log.info(`Snapshot ${snapshotId} started; it completes while the fleet deploys.`)
        }
      },
      runtime
    )
    const targets = this.prepared.map(({ template, groups }) => ({
      template,
      groups,
      refreshes: []
    }))
    this.result = { ...taken, targets, dryRun: options.dryRun }
    if (!taken.failure) return
    // Ended in error: already tagged failed by the wait, nothing left to settle.
    if (taken.state === 'error')
      journal.settle({ kind: 'snapshot', snapshotId: taken.snapshot.snapshotId }, 'ended in error')
    throw new ActionError(taken.failure.message)
  }

  private failed(err: unknown): void {
    this.error = err
    const { log, signal } = this.ctx.runtime
    if (signal.aborted) {
      log.warning(`The deploy was cancelled, so the snapshot will not be published.`)
      return
    }
    log.error(`The snapshot failed, so nothing will be published: ${errorMessage(err)}`, {
      title: 'Snapshot failed'
    })
  }
}
