import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  AutoScalingClient,
  DescribeWarmPoolCommand,
  type Instance,
  TerminateInstanceInAutoScalingGroupCommand
} from '@aws-sdk/client-auto-scaling'
import { mockClient } from 'aws-sdk-client-mock'
import { refreshWarmPool } from '../../src/snapshot/ops/warm-pool.js'
import { RecordingLog } from '../helpers/log.js'

const asgMock = mockClient(AutoScalingClient)
const autoscaling = new AutoScalingClient({ region: 'us-east-1' })
const TEMPLATE = 'lt-0123456789abcdef0'
const published = { launchTemplateId: TEMPLATE, version: 7 }

const warm = (id: string, version: string, template = TEMPLATE): Instance => ({
  InstanceId: id,
  LifecycleState: 'Warmed:Stopped',
  AvailabilityZone: 'us-east-1a',
  HealthStatus: 'Healthy',
  ProtectedFromScaleIn: false,
  LaunchTemplate: { LaunchTemplateId: template, Version: version }
})
const CONFIG = { MinSize: 2, PoolState: 'Stopped' as const, Status: undefined }

describe('warm pools after a publish', () => {
  let log: RecordingLog
  beforeEach(() => {
    asgMock.reset()
    log = new RecordingLog()
  })

  it('replaces the instances prepared from older versions, every page read, the new ones kept', async () => {
    asgMock
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'app-asg' })
      .resolvesOnce({
        WarmPoolConfiguration: CONFIG,
        Instances: [warm('i-old1', '6'), warm('i-new1', '7')],
        NextToken: 'page2'
      })
      .resolvesOnce({
        WarmPoolConfiguration: CONFIG,
        Instances: [warm('i-other', '9', 'lt-0ffffffffffffffff'), warm('i-dflt', '$Default')]
      })
    asgMock.on(TerminateInstanceInAutoScalingGroupCommand).resolves({})

    const result = await refreshWarmPool(autoscaling, 'app-asg', published, {
      mode: 'replace',
      dryRun: false,
      log
    })
    expect(result).toEqual({
      groupName: 'app-asg',
      poolSize: 4,
      stale: ['i-old1', 'i-other', 'i-dflt'],
      replaced: ['i-old1', 'i-other', 'i-dflt'],
      kept: [],
      refused: []
    })
    for (const id of result.replaced)
      expect(asgMock).toHaveReceivedCommandWith(TerminateInstanceInAutoScalingGroupCommand, {
        InstanceId: id,
        ShouldDecrementDesiredCapacity: false
      })
    expect(asgMock).toHaveReceivedCommandTimes(TerminateInstanceInAutoScalingGroupCommand, 3)
  })

  it('keeps them with warm-pools: keep, with a warning that names the risk and the instances', async () => {
    asgMock
      .on(DescribeWarmPoolCommand)
      .resolves({ WarmPoolConfiguration: CONFIG, Instances: [warm('i-old1', '3')] })
    const result = await refreshWarmPool(autoscaling, 'app-asg', published, {
      mode: 'keep',
      dryRun: false,
      log
    })
    expect(result.kept).toEqual(['i-old1'])
    expect(asgMock).not.toHaveReceivedCommand(TerminateInstanceInAutoScalingGroupCommand)
    expect(log.messages('warning')).toEqual([
      '1 instance(s) in the warm pool of app-asg were prepared from an older version and will serve OLD code when they go into service: i-old1 (warm-pools: keep). Terminate them, or deploy with warm-pools: replace.'
    ])
  })

  it('does nothing for a group without a warm pool, and changes nothing under dry run', async () => {
    asgMock.on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'plain-asg' }).resolves({})
    asgMock
      .on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'app-asg' })
      .resolves({ WarmPoolConfiguration: CONFIG, Instances: [warm('i-old1', '1')] })
    const none = await refreshWarmPool(autoscaling, 'plain-asg', published, {
      mode: 'replace',
      dryRun: false,
      log
    })
    expect(none).toMatchObject({ poolSize: 0, stale: [], replaced: [] })
    const dry = await refreshWarmPool(autoscaling, 'app-asg', published, {
      mode: 'replace',
      dryRun: true,
      log
    })
    expect(dry.replaced).toEqual(['i-old1'])
    expect(asgMock).not.toHaveReceivedCommand(TerminateInstanceInAutoScalingGroupCommand)
  })

  it('reports an instance AWS refused to terminate by name, and goes on with the others', async () => {
    asgMock
      .on(DescribeWarmPoolCommand)
      .resolves({ WarmPoolConfiguration: CONFIG, Instances: [warm('i-a', '1'), warm('i-b', '1')] })
    asgMock
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-a' })
      .rejects(
        Object.assign(new Error('Scaling activity in progress'), {
          name: 'ScalingActivityInProgress'
        })
      )
      .on(TerminateInstanceInAutoScalingGroupCommand, { InstanceId: 'i-b' })
      .resolves({})
    const result = await refreshWarmPool(autoscaling, 'app-asg', published, {
      mode: 'replace',
      dryRun: false,
      log
    })
    expect(result.replaced).toEqual(['i-b'])
    expect(result.refused).toEqual([
      {
        instanceId: 'i-a',
        error:
          'TerminateInstanceInAutoScalingGroup failed: ScalingActivityInProgress: Scaling activity in progress'
      }
    ])
  })
})
