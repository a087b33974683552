import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  AutoScalingClient,
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand
} from '@aws-sdk/client-auto-scaling'
import { mockClient } from 'aws-sdk-client-mock'
import { inspectGroups, pinnedGroupWarning } from '../../src/snapshot/ops/groups.js'
import {
  RefreshInProgressError,
  startInstanceRefresh,
  waitForInstanceRefresh
} from '../../src/snapshot/ops/instance-refresh.js'
import { makeRuntime } from '../../src/runtime.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { VirtualClock } from '../../support/ssm-fleet.js'

const asgMock = mockClient(AutoScalingClient)
const autoscaling = new AutoScalingClient({ region: 'us-east-1' })
const LT = { id: 'lt-0123456789abcdef0', name: 'app-lt' }

function group(name: string, extra: Partial<AutoScalingGroup>): AutoScalingGroup {
  return {
    AutoScalingGroupName: name,
    MinSize: 0,
    MaxSize: 10,
    DesiredCapacity: 2,
    DefaultCooldown: 300,
    AvailabilityZones: ['us-east-1a'],
    HealthCheckType: 'EC2',
    CreatedTime: new Date(),
    Instances: [],
    ...extra
  } as AutoScalingGroup
}

describe('inspectGroups', () => {
  beforeEach(() => {
    asgMock.reset()
  })

  it('finds every group using the template, on every page, by id or name, plain or mixed', async () => {
    asgMock
      .on(DescribeAutoScalingGroupsCommand)
      .resolvesOnce({
        AutoScalingGroups: [
          group('web', { LaunchTemplate: { LaunchTemplateId: LT.id, Version: '$Default' } }),
          group('other', {
            LaunchTemplate: { LaunchTemplateId: 'lt-0fffffffffffffff0', Version: '$Default' }
          })
        ],
        NextToken: 'page-2'
      })
      .resolvesOnce({
        AutoScalingGroups: [
          group('workers', { LaunchTemplate: { LaunchTemplateName: 'app-lt', Version: '7' } }),
          group('spot', {
            MixedInstancesPolicy: {
              LaunchTemplate: {
                LaunchTemplateSpecification: { LaunchTemplateId: LT.id, Version: '$Latest' }
              }
            }
          }),
          group('legacy', { LaunchConfigurationName: 'old-lc' })
        ]
      })

    const groups = await inspectGroups(autoscaling, LT)

    expect(asgMock).toHaveReceivedCommandTimes(DescribeAutoScalingGroupsCommand, 2)
    expect(asgMock).toHaveReceivedNthCommandWith(2, DescribeAutoScalingGroupsCommand, {
      NextToken: 'page-2'
    })
    expect(groups).toEqual([
      {
        name: 'spot',
        via: 'mixed-instances-policy',
        version: '$Latest',
        follows: 'latest',
        desiredCapacity: 2,
        instanceCount: 0
      },
      {
        name: 'web',
        via: 'launch-template',
        version: '$Default',
        follows: 'default',
        desiredCapacity: 2,
        instanceCount: 0
      },
      {
        name: 'workers',
        via: 'launch-template',
        version: '7',
        follows: 'pinned',
        desiredCapacity: 2,
        instanceCount: 0
      }
    ])
  })

  it('takes a group that names no version as following the default', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [group('web', { LaunchTemplate: { LaunchTemplateId: LT.id } })]
    })
    expect((await inspectGroups(autoscaling, LT))[0]).toMatchObject({
      version: '$Default',
      follows: 'default'
    })
  })

  it('rejects an asg-name that does not use the template, or does not exist', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['other'] }).resolves({
      AutoScalingGroups: [
        group('other', { LaunchTemplate: { LaunchTemplateId: 'lt-0fffffffffffffff0' } })
      ]
    })
    asgMock
      .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['nope'] })
      .resolves({ AutoScalingGroups: [] })

    await expect(inspectGroups(autoscaling, LT, { asgName: 'other' })).rejects.toThrow(
      'Setting "groups": Auto Scaling group other launches from launch template lt-0fffffffffffffff0, not from launch template app-lt (lt-0123456789abcdef0). Expected only groups that use it, or leave groups empty to find them.'
    )
    await expect(inspectGroups(autoscaling, LT, { asgName: 'nope' })).rejects.toThrow(
      'Setting "groups": Auto Scaling group "nope" does not exist in this region.'
    )
  })

  it('warns about a pinned group, naming it and the fix', () => {
    const warning = pinnedGroupWarning(
      {
        name: 'workers',
        via: 'launch-template',
        version: '7',
        follows: 'pinned',
        desiredCapacity: 2,
        instanceCount: 2
      },
      LT,
      12
    )
    expect(warning).toBe(
      'Auto Scaling group workers is pinned to version 7 of app-lt (lt-0123456789abcdef0), so the instances it launches ignore the new version 12 and boot with old code. ' +
        "Make it follow the default version ($Default): aws autoscaling update-auto-scaling-group --auto-scaling-group-name workers --launch-template 'LaunchTemplateId=lt-0123456789abcdef0,Version=$Default'"
    )
  })
})

describe('instance refresh', () => {
  let clock: VirtualClock
  let log: RecordingLog
  beforeEach(() => {
    ;({ clock, log } = freshRun(asgMock))
  })

  it('fails clearly when a refresh is already in progress', async () => {
    asgMock.on(StartInstanceRefreshCommand).rejects(
      Object.assign(
        new Error(
          'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.'
        ),
        {
          name: 'InstanceRefreshInProgressFault',
          Code: 'InstanceRefreshInProgress'
        }
      )
    )
    asgMock.on(DescribeInstanceRefreshesCommand).resolves({
      InstanceRefreshes: [
        { InstanceRefreshId: 'ir-running', AutoScalingGroupName: 'web', Status: 'InProgress' }
      ]
    })
    const starting = startInstanceRefresh(autoscaling, 'web', { minHealthyPercentage: 90 })

    await expect(starting).rejects.toThrow(RefreshInProgressError)
    await expect(starting).rejects.toThrow(
      'An instance refresh is already InProgress on Auto Scaling group web (ir-running). Wait for it to end, or cancel it (aws autoscaling cancel-instance-refresh --auto-scaling-group-name web), then run again.'
    )
  })

  it('starts a rolling refresh with the minimum healthy percentage', async () => {
    asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' })
    expect(await startInstanceRefresh(autoscaling, 'web', { minHealthyPercentage: 75 })).toBe(
      'ir-1'
    )
    expect(asgMock).toHaveReceivedCommandWith(StartInstanceRefreshCommand, {
      AutoScalingGroupName: 'web',
      Strategy: 'Rolling',
      Preferences: { MinHealthyPercentage: 75 }
    })
  })

  it('follows a refresh to success with progress lines', async () => {
    asgMock
      .on(DescribeInstanceRefreshesCommand)
      .resolvesOnce({ InstanceRefreshes: [{ Status: 'Pending', InstancesToUpdate: 4 }] })
      .resolvesOnce({
        InstanceRefreshes: [{ Status: 'InProgress', PercentageComplete: 50, InstancesToUpdate: 2 }]
      })
      .resolves({
        InstanceRefreshes: [{ Status: 'Successful', PercentageComplete: 100, InstancesToUpdate: 0 }]
      })
    const result = await waitForInstanceRefresh(
      autoscaling,
      'web',
      'ir-1',
      {
        timeoutMs: 600_000
      },
      makeRuntime({ clock, log })
    )

    expect(result).toEqual({
      groupName: 'web',
      refreshId: 'ir-1',
      status: 'Successful',
      percentageComplete: 100
    })
    expect(log.messages('info')).toEqual([
      'Instance refresh of web: Pending, 0% complete, 4 instance(s) to update',
      'Instance refresh of web: InProgress, 50% complete, 2 instance(s) to update',
      'Instance refresh of web: Successful, 100% complete, 0 instance(s) to update'
    ])
    expect(Math.min(...clock.sleeps)).toBeGreaterThanOrEqual(4_000)
  })

  it('fails when the refresh ends other than Successful', async () => {
    asgMock.on(DescribeInstanceRefreshesCommand).resolves({
      InstanceRefreshes: [
        { Status: 'Failed', PercentageComplete: 25, StatusReason: 'Instances failed to launch' }
      ]
    })
    await expect(
      waitForInstanceRefresh(
        autoscaling,
        'web',
        'ir-1',
        { timeoutMs: 600_000 },
        makeRuntime({ clock, log })
      )
    ).rejects.toThrow('Instance refresh ir-1 of web ended Failed: Instances failed to launch.')
  })
})
