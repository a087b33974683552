/** The deploy replaces the warm pool instances that hold old code, once it has published. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  AutoScalingClient,
  DescribeWarmPoolCommand,
  TerminateInstanceInAutoScalingGroupCommand
} from '@aws-sdk/client-auto-scaling'
import { EC2Client } from '@aws-sdk/client-ec2'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { DescribeDocumentCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { runDeploy } from '../../src/deploy/pipeline.js'
import { deployReport } from '../../src/report/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import { RecordingLog } from '../helpers/log.js'
import { GROUP, SimulatedEc2, TEMPLATE_ID } from '../../support/ec2-world.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'
import { deployOptions, rolloutSettings, RUN } from '../../support/fixtures.js'

const ec2Mock = mockClient(EC2Client)
const asgMock = mockClient(AutoScalingClient)
const ssmMock = mockClient(SSMClient)
const clients = {
  ec2: new EC2Client({ region: 'us-east-1' }),
  ssm: new SSMClient({ region: 'us-east-1' }),
  autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
  elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' })
}
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
    ec2Mock.reset()
    asgMock.reset()
    ssmMock.reset()
    clock = new VirtualClock()
    world = new SimulatedEc2(clock, { snapshotMs: 30_000 })
    IDS.forEach((id, i) => world.launch(id, { at: clock.now() - 86_400_000 + i * 1000 }))
    world.mock(ec2Mock, asgMock)
    new SimulatedFleet(
      clock,
      Object.fromEntries(IDS.map((id) => [id, { durationMs: 10_000 }]))
    ).mock(ssmMock)
    ssmMock
      .on(DescribeDocumentCommand)
      .resolves({ Document: { Name: 'AWS-RunShellScript', Status: 'Active' } })
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
    expect(result.warmPools?.[0]?.replaced).toEqual([
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
