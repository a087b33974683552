import { beforeEach, describe, expect, it } from '@jest/globals'
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { SnapshotFailedError, waitForSnapshot } from '../../src/snapshot/wait.js'
import { makeRuntime } from '../../src/runtime.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { VirtualClock } from '../../support/ssm-fleet.js'

const ec2Mock = mockClient(EC2Client)
const ec2 = new EC2Client({ region: 'us-east-1' })
const ID = 'snap-0123456789abcdef0'

/** A snapshot that reports `progress` until `completeAt` (virtual ms), then `final`. */
function snapshotTimeline(
  clock: VirtualClock,
  completeAt: number,
  final: { State: 'completed' | 'error'; StateMessage?: string }
): void {
  const start = clock.now()
  ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: [ID] }).callsFake(() => {
    const elapsed = clock.now() - start
    if (elapsed >= completeAt) {
      return { Snapshots: [{ SnapshotId: ID, Progress: '100%', ...final }] }
    }
    const pct = Math.floor((elapsed / completeAt) * 100)
    return { Snapshots: [{ SnapshotId: ID, State: 'pending', Progress: `${pct}%` }] }
  })
}

class NotFound extends Error {
  override name = 'InvalidSnapshot.NotFound'
  readonly $metadata = { httpStatusCode: 400 }
}

describe('waitForSnapshot', () => {
  let clock: VirtualClock
  let log: RecordingLog
  beforeEach(() => {
    ;({ clock, log } = freshRun(ec2Mock))
  })
  const rt = () => makeRuntime({ clock, log })

  it('follows pending to completed and notices within 2.4 s', async () => {
    snapshotTimeline(clock, 60_000, { State: 'completed' })
    const done = await waitForSnapshot(ec2, ID, { timeoutMs: 600_000 }, rt())

    expect(done).toMatchObject({ snapshotId: ID, state: 'completed', progress: '100%' })
    // Noticed no later than one maximum poll interval (2 s + 20% jitter) after completion.
    expect(done.waitedMs).toBeGreaterThanOrEqual(60_000)
    expect(done.waitedMs).toBeLessThanOrEqual(62_400)
    expect(done.checks).toBe(ec2Mock.commandCalls(DescribeSnapshotsCommand).length)
    expect(Math.max(...clock.sleeps)).toBeLessThanOrEqual(2_400)
    expect(log.messages('info').at(-1)).toMatch(
      new RegExp(`^Snapshot ${ID} completed after 1m(\\ds)?\\.$`)
    )
    expect(log.messages('info').some((m) => /pending at \d+%/.test(m))).toBe(true)
  })

  it('fails with AWS state message when the snapshot ends in error', async () => {
    snapshotTimeline(clock, 5_000, {
      State: 'error',
      StateMessage: 'The volume was deleted while the snapshot was in progress'
    })
    const waiting = waitForSnapshot(ec2, ID, { timeoutMs: 600_000 }, rt())

    await expect(waiting).rejects.toThrow(SnapshotFailedError)
    await expect(waiting).rejects.toThrow(
      `Snapshot ${ID} failed: state error: The volume was deleted while the snapshot was in progress`
    )
  })

  it('says how far the snapshot got when the wait times out', async () => {
    snapshotTimeline(clock, 100_000, { State: 'completed' })
    const waiting = waitForSnapshot(ec2, ID, { timeoutMs: 30_000 }, rt())

    await expect(waiting).rejects.toThrow(
      `Snapshot ${ID} did not complete within 30s: still pending at 30%. It keeps going in AWS`
    )
  })

  it('treats a snapshot that is not visible yet as pending', async () => {
    ec2Mock
      .on(DescribeSnapshotsCommand)
      .rejectsOnce(new NotFound('The snapshot does not exist'))
      .resolves({ Snapshots: [{ SnapshotId: ID, State: 'completed', Progress: '100%' }] })
    const done = await waitForSnapshot(ec2, ID, { timeoutMs: 60_000 }, rt())

    expect(done.checks).toBe(2)
    expect(done.state).toBe('completed')
  })

  it('names the API when DescribeSnapshots is denied', async () => {
    const denied = Object.assign(new Error('You are not authorized to perform this operation.'), {
      name: 'UnauthorizedOperation',
      $metadata: { httpStatusCode: 403 }
    })
    ec2Mock.on(DescribeSnapshotsCommand).rejects(denied)

    await expect(waitForSnapshot(ec2, ID, { timeoutMs: 60_000 }, rt())).rejects.toThrow(
      /^DescribeSnapshots failed: UnauthorizedOperation: You are not authorized/
    )
  })
})
