/** The `snapshot-state` output is `error` for a snapshot that ended in error, in both actions. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  CreateLaunchTemplateVersionCommand,
  DescribeSnapshotsCommand,
  type Snapshot
} from '@aws-sdk/client-ec2'
import { snapshotOutputs } from '../../src/actions/shared/snapshot.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import { runPublishFlow } from '../../src/flows/publish.js'
import { SimulatedEc2, TEMPLATE_ID } from '../../support/ec2-world.js'
import { deployOptions, publishFlowOptions } from '../../support/fixtures.js'
import { mockAws, scriptedFleet } from '../../support/scripted-deploy.js'
import { RecordingLog } from '../helpers/log.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'

const aws = mockAws()
const { ec2Mock, clients } = aws
const IDS = SimulatedFleet.ids(3)

describe('snapshot-state for a snapshot that ended in error', () => {
  let clock: VirtualClock
  let world: SimulatedEc2
  let fleet: SimulatedFleet
  beforeEach(() => {
    ;({ clock, world, fleet } = scriptedFleet(aws, {
      ids: IDS,
      commandMs: 10_000,
      snapshotMs: 5_000
    }))
    // Every snapshot ends in error instead of completing.
    ec2Mock.on(DescribeSnapshotsCommand).callsFake((input: Record<string, unknown>) => {
      const out = world.handle('DescribeSnapshots', input) as { Snapshots: Snapshot[] }
      return {
        Snapshots: out.Snapshots.map((s) =>
          s.State === 'completed' ? { ...s, State: 'error', StateMessage: 'internal error' } : s
        )
      }
    })
  })

  it('is error in the snapshot action', async () => {
    const result = await runPublishFlow(
      clients,
      publishFlowOptions(IDS[0]!, TEMPLATE_ID, { timeoutMs: 60_000 }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(snapshotOutputs(result)['snapshot-state']).toBe('error')
    expect(world.snapshots.get(result.snapshot.snapshotId)!.tags).toMatchObject({
      'ebs-autoscale:status': 'failed',
      'ebs-autoscale:failure': 'internal error'
    })
  })

  it('is error in deploy when the fleet succeeded, and the failure says why', async () => {
    const result = await runDeploy(
      clients,
      deployOptions(),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(result.failure?.message).toContain(
      'The fleet is deployed, but the snapshot failed, so nothing was published'
    )
    expect(snapshotOutputs(result.publish!)['snapshot-state']).toBe('error')
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 0)
    // Tagged failed with AWS's reason, which the deploy's own message does not overwrite.
    const snapshot = world.snapshots.get(result.publish!.snapshot.snapshotId)
    expect(snapshot?.tags['ebs-autoscale:failure']).toBe('internal error')
  })

  it("is error in deploy when the rollout failed too; with on-failure: delete it is kept, tagged with AWS's reason", async () => {
    fleet.setHost(IDS[2]!, { durationMs: 10_000, outcome: 'Failed' })
    const result = await runDeploy(
      clients,
      deployOptions({ onFailure: 'delete' }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(snapshotOutputs(result.publish!)['snapshot-state']).toBe('error')
    // Already tagged failed by the wait with AWS's reason: the deploy releases it as it is.
    expect(
      world.snapshots.get(result.publish!.snapshot.snapshotId)?.tags['ebs-autoscale:failure']
    ).toBe('internal error')
  })
})
