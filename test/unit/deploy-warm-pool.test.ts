/** The deploy replaces the warm pool instances that hold old code, once it has published. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeWarmPoolCommand,
  TerminateInstanceInAutoScalingGroupCommand
} from '@aws-sdk/client-auto-scaling'
import { mockAws, scriptedFleet } from '../../support/scripted-deploy.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { deployReport } from '../../src/report/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import { RecordingLog } from '../helpers/log.js'
import { GROUP, SimulatedEc2, TEMPLATE_ID } from '../../support/ec2-world.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'
import { deployOptions, rolloutSettings, RUN } from '../../support/fixtures.js'

const aws = mockAws()
const { asgMock, clients } = aws
const IDS = SimulatedFleet.ids(2)
const warm = (id: string, version: string) => ({
  InstanceId: id,
  LifecycleState: 'Warmed:Stopped' as const,
  AvailabilityZone: 'us-east-1a',
  HealthStatus: 'Healthy',
  ProtectedFromScaleIn: false,
  LaunchTemplate: { LaunchTemplateId: TEMPLATE_ID, Version: version }
})

describe('the deploy and warm pools', () => {
  let clock: VirtualClock
  let world: SimulatedEc2
  let terminatedAt: number[]
  beforeEach(() => {
    ;({ clock, world } = scriptedFleet(aws, { ids: IDS, commandMs: 10_000, snapshotMs: 30_000 }))
    asgMock.on(DescribeWarmPoolCommand, { AutoScalingGroupName: GROUP }).resolves({
      WarmPoolConfiguration: { MinSize: 2, PoolState: 'Stopped' },
      // i-warm2 was prepared from a version newer than any the deploy sees: it is kept.
      Instances: [warm('i-0000000000000warm1', '1'), warm('i-0000000000000warm2', '99')]
    })
    terminatedAt = []
    asgMock.on(TerminateInstanceInAutoScalingGroupCommand).callsFake(() => {
      terminatedAt.push(clock.now())
      return { Activity: undefined }
    })
  })

  it('after the publish, terminates the old-code warm instances, desired capacity unchanged', async () => {
    const result = await runDeploy(
      clients,
      deployOptions({ warmPools: 'replace' }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    const calls = asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)
    expect(calls.map((c) => c.args[0].input)).toEqual([
      { InstanceId: 'i-0000000000000warm1', ShouldDecrementDesiredCapacity: false }
    ])
    expect(terminatedAt[0]).toBeGreaterThanOrEqual(world.firstCall('CreateLaunchTemplateVersion')!)
    expect(deployReport(result, RUN, 'us-east-1')).toContain(
      `- ${GROUP}: 1 of 2 warm instance(s) held old code; replaced i-0000000000000warm1`
    )
  })

  it('dry run says which it would replace and terminates nothing', async () => {
    const result = await runDeploy(
      clients,
      deployOptions({
        warmPools: 'replace',
        dryRun: true,
        rollout: rolloutSettings({ dryRun: true })
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(0)
    expect(result.publish?.warmPools?.[0]?.replaced).toEqual([
      'i-0000000000000warm1',
      'i-0000000000000warm2'
    ])
    expect(deployReport(result, RUN, 'us-east-1')).toContain('would replace')
  })

  it('warm-pools: keep terminates nothing and warns naming the old-code instances', async () => {
    const log = new RecordingLog()
    await runDeploy(clients, deployOptions({ warmPools: 'keep' }), makeRuntime({ clock, log }))
    expect(asgMock.commandCalls(TerminateInstanceInAutoScalingGroupCommand)).toHaveLength(0)
    expect(log.messages('warning').join('\n')).toContain(
      'will serve OLD code when they go into service: i-0000000000000warm1 (warm-pools: keep)'
    )
  })
})
