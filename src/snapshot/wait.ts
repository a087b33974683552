/**
 * Phase 2: wait for the snapshot to complete, through the project's polling helper (quick
 * first looks, at most ~2 s apart), not the SDK waiter that polls every 15 s at least.
 */
import { DescribeSnapshotsCommand, type EC2Client, type Snapshot } from '@aws-sdk/client-ec2'
import { ActionError, awsErrorCode, errorMessage, wrapAwsError } from '../errors.js'
import { formatDuration } from '../duration.js'
import { type Backoff, poll, PollTimeoutError } from '../poll.js'
import type { Runtime } from '../runtime.js'
import { markSnapshotFailed } from './ops/failed.js'
import type { SnapshotCompletion } from './types.js'

export interface WaitOptions {
  timeoutMs: number
  backoff?: Partial<Backoff>
  /** Least time between two progress lines in the log. */
  progressEveryMs?: number
}

/** A snapshot that ended in the `error` state; carries AWS's StateMessage. */
export class SnapshotFailedError extends ActionError {
  override name = 'SnapshotFailedError'
  constructor(
    readonly snapshotId: string,
    readonly stateMessage: string
  ) {
    super(`Snapshot ${snapshotId} failed: state error: ${stateMessage || 'AWS gave no reason'}`)
  }
}

export async function waitForSnapshot(
  ec2: EC2Client,
  snapshotId: string,
  options: WaitOptions,
  runtime: Runtime
): Promise<SnapshotCompletion> {
  const { clock, log, signal } = runtime
  const progressEveryMs = options.progressEveryMs ?? 10_000
  const started = clock.now()
  let checks = 0
  let lastProgress = ''
  let lastLine = Number.NEGATIVE_INFINITY

  const check = async () => {
    checks++
    const snapshot = await describeSnapshot(ec2, snapshotId)
    if (!snapshot) return { done: false as const, status: 'not visible yet' }
    const progress = snapshot.Progress || '0%'
    switch (snapshot.State) {
      case 'completed':
        return { done: true as const, value: snapshot.Progress || '100%' }
      case 'error':
        throw new SnapshotFailedError(snapshotId, snapshot.StateMessage ?? '')
      default:
        lastProgress = progress
        return { done: false as const, status: `${snapshot.State ?? 'pending'} at ${progress}` }
    }
  }

  try {
    const progress = await poll({
      label: `snapshot ${snapshotId} to complete`,
      check,
      timeoutMs: options.timeoutMs,
      clock,
      signal,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      onPending: (status) => {
        if (clock.now() - lastLine < progressEveryMs) return
        lastLine = clock.now()
        log.info(`Snapshot ${snapshotId}: ${status ?? 'pending'}`)
      }
    })
    const waitedMs = clock.now() - started
    log.info(`Snapshot ${snapshotId} completed after ${formatDuration(waitedMs)}.`)
    return { snapshotId, state: 'completed', progress, waitedMs, checks }
  } catch (err) {
    if (!(err instanceof PollTimeoutError)) throw err
    throw new ActionError(
      `Snapshot ${snapshotId} did not complete within ${formatDuration(options.timeoutMs)}: still pending at ${lastProgress || '0%'}. ` +
        'It keeps going in AWS (a first snapshot of a volume can take long); raise snapshot-timeout, or run again once it has completed.'
    )
  }
}

/** The snapshot, or undefined while it is not visible yet (right after CreateSnapshot). */
async function describeSnapshot(ec2: EC2Client, snapshotId: string): Promise<Snapshot | undefined> {
  try {
    const out = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
    return out.Snapshots?.find((s) => s.SnapshotId === snapshotId)
  } catch (err) {
    if (awsErrorCode(err) === 'InvalidSnapshot.NotFound') return undefined
    // A wrapped throttling error keeps its code: the poller still absorbs it and slows down.
    throw wrapAwsError('DescribeSnapshots', err)
  }
}

/**
 * The wait phase: marks the snapshot failed when it ended in `error`, then rethrows, so a
 * broken snapshot is never mistaken for a good one.
 */
export async function waitOrMarkFailed(
  ec2: EC2Client,
  snapshotId: string,
  options: WaitOptions,
  runtime: Runtime
): Promise<SnapshotCompletion> {
  try {
    return await waitForSnapshot(ec2, snapshotId, options, runtime)
  } catch (err) {
    if (err instanceof SnapshotFailedError) {
      await markSnapshotFailed(ec2, snapshotId, err.stateMessage).catch((e: unknown) =>
        runtime.log.warning(`Could not tag ${snapshotId} as failed: ${errorMessage(e)}`)
      )
    }
    throw err
  }
}
