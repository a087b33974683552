import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand
} from '@aws-sdk/client-auto-scaling'
import {
  CreateLaunchTemplateVersionCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  ModifyLaunchTemplateCommand
} from '@aws-sdk/client-ec2'
import { snapshotReport } from '../../src/report/snapshot.js'
import {
  prepareTargets,
  publishSnapshot,
  type PublishFlowOptions,
  retainSnapshots,
  runPublishFlow,
  takeSnapshot
} from '../../src/flows/publish.js'
import { makeRuntime } from '../../src/runtime.js'
import type { InstanceRefreshSettings } from '../../src/snapshot/targets.js'
import { mockAws } from '../../support/scripted-deploy.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { VirtualClock } from '../../support/ssm-fleet.js'
import { publishFlowOptions, RUN } from '../../support/fixtures.js'

const { ec2Mock, asgMock, ssmMock, clients } = mockAws()
const HOST = 'i-0123456789abcdef0'
const VOL = 'vol-0123456789abcdef0'
const SNAP = 'snap-0new000000000000a'
const LT = 'lt-0123456789abcdef0'

const run = RUN

const options = (extra: Partial<PublishFlowOptions> = {}) =>
  publishFlowOptions(HOST, 'app-lt', extra)

const withRefresh = (instanceRefresh: InstanceRefreshSettings): PublishFlowOptions => {
  const base = options()
  return { ...base, publish: { ...base.publish!, instanceRefresh } }
}

function fleet(snapshotState: 'completed' | 'error' = 'completed'): void {
  ec2Mock.on(DescribeVolumesCommand).resolves({
    Volumes: [
      {
        VolumeId: VOL,
        Size: 8,
        VolumeType: 'gp3',
        AvailabilityZone: 'us-east-1a',
        Encrypted: false,
        Attachments: [{ InstanceId: HOST, Device: '/dev/sdf', State: 'attached' }]
      }
    ]
  })
  ec2Mock.on(CreateSnapshotCommand).resolves({ SnapshotId: SNAP, State: 'pending' })
  ec2Mock
    .on(DescribeSnapshotsCommand, { SnapshotIds: [SNAP] })
    .resolvesOnce({ Snapshots: [{ SnapshotId: SNAP, State: 'pending', Progress: '50%' }] })
    .resolves({
      Snapshots: [
        { SnapshotId: SNAP, State: snapshotState, Progress: '100%', StateMessage: 'internal error' }
      ]
    })
  ec2Mock.on(DescribeSnapshotsCommand, { OwnerIds: ['self'] }).resolves({ Snapshots: [] })
  // Version 1 is the default until ModifyLaunchTemplate sets another (read back after it).
  let defaultVersion = 1
  ec2Mock.on(DescribeLaunchTemplatesCommand).callsFake(() => ({
    LaunchTemplates: [
      {
        LaunchTemplateId: LT,
        LaunchTemplateName: 'app-lt',
        DefaultVersionNumber: defaultVersion,
        LatestVersionNumber: 1
      }
    ]
  }))
  ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
    LaunchTemplateVersions: [
      {
        LaunchTemplateId: LT,
        VersionNumber: 1,
        LaunchTemplateData: {
          BlockDeviceMappings: [
            { DeviceName: '/dev/sdf', Ebs: { SnapshotId: 'snap-0old', VolumeSize: 8 } }
          ]
        }
      }
    ]
  })
  ec2Mock
    .on(CreateLaunchTemplateVersionCommand)
    .resolves({ LaunchTemplateVersion: { VersionNumber: 2 } })
  ec2Mock.on(ModifyLaunchTemplateCommand).callsFake((input: { DefaultVersion?: string }) => {
    defaultVersion = Number(input.DefaultVersion)
    return {}
  })
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] })
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'web',
        LaunchTemplate: { LaunchTemplateId: LT, Version: '$Default' },
        DesiredCapacity: 3,
        Instances: []
      },
      {
        AutoScalingGroupName: 'workers',
        LaunchTemplate: { LaunchTemplateName: 'app-lt', Version: '1' },
        DesiredCapacity: 1,
        Instances: []
      }
    ] as never
  })
}

describe('runPublishFlow', () => {
  let log: RecordingLog
  let clock: VirtualClock
  beforeEach(() => {
    ;({ clock, log } = freshRun(ec2Mock, asgMock, ssmMock))
  })

  it('snapshots, waits, publishes, reports the groups and applies retention', async () => {
    fleet()
    const result = await runPublishFlow(clients, options(), makeRuntime({ log, clock }))

    expect(result.failure).toBeUndefined()
    expect(result.state).toBe('completed')
    expect(result.targets[0]!.published).toMatchObject({
      version: 2,
      previousDefaultVersion: 1,
      isDefault: true
    })
    expect(result.targets[0]!.groups.map((g) => [g.name, g.follows])).toEqual([
      ['web', 'default'],
      ['workers', 'pinned']
    ])
    expect(log.lines.filter((l) => l.level === 'warning')).toEqual([
      expect.objectContaining({
        title: 'Auto Scaling group workers is pinned to version 1',
        message: expect.stringContaining('ignore the new version 2')
      })
    ])
    expect(result.retention).toMatchObject({ deletedSnapshots: [], dryRun: false })

    const summary = snapshotReport(result, 'us-east-1')
    expect(summary).toContain(
      `**Published**: new instances boot from \`${SNAP}\` (launch template version 2, the default).`
    )
    expect(summary).toContain(
      '| `web` | $Default | the default version | 0 (desired 3) | launch-template |'
    )
    expect(summary).toContain(
      '| `workers` | 1 | ⚠️ a fixed version: ignores the new one | 0 (desired 1) | launch-template |'
    )
    expect(summary).toContain(`| /dev/sdf → ${SNAP}, 8 GiB |`)
  })

  it('publishes to every target and reports each, a failed one by its template', async () => {
    fleet()
    const OTHER = 'lt-0fedcba9876543210'
    ec2Mock.on(DescribeLaunchTemplatesCommand, { LaunchTemplateNames: ['other-lt'] }).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: OTHER,
          LaunchTemplateName: 'other-lt',
          DefaultVersionNumber: 4,
          LatestVersionNumber: 4
        }
      ]
    })
    ec2Mock.on(CreateLaunchTemplateVersionCommand, { LaunchTemplateId: OTHER }).rejects(
      Object.assign(new Error('Launch template version limit reached'), {
        name: 'LaunchTemplateVersionLimitExceeded'
      })
    )
    const base = options()
    const result = await runPublishFlow(
      clients,
      {
        ...base,
        publish: {
          ...base.publish!,
          targets: [
            { launchTemplate: 'app-lt', sourceVersion: '$Default' },
            { launchTemplate: 'other-lt', sourceVersion: '$Latest' }
          ]
        }
      },
      makeRuntime({ log, clock })
    )

    expect(result.targets.map((t) => [t.template.name, t.published?.version])).toEqual([
      ['app-lt', 2],
      ['other-lt', undefined]
    ])
    expect(ec2Mock).toHaveReceivedCommandWith(ModifyLaunchTemplateCommand, {
      LaunchTemplateId: LT,
      DefaultVersion: '2'
    })
    expect(result.failure?.phase).toBe('publish')
    expect(result.failure?.message).toMatch(
      /^other-lt: CreateLaunchTemplateVersion failed: LaunchTemplateVersionLimitExceeded: Launch template version limit reached/
    )
    expect(result.retention).toBeUndefined()
    const summary = snapshotReport(result, 'us-east-1')
    expect(summary).toContain(`| /dev/sdf → ${SNAP}, 8 GiB |`)
    expect(summary).toMatch(
      /\[other-lt\]\(.*\): not published \(CreateLaunchTemplateVersion failed/
    )
  })

  it('fails before making anything when an instance refresh is already running', async () => {
    fleet()
    asgMock.on(DescribeInstanceRefreshesCommand).resolves({
      InstanceRefreshes: [{ InstanceRefreshId: 'ir-9', Status: 'InProgress' }]
    })
    await expect(
      runPublishFlow(
        clients,
        withRefresh({ minHealthyPercentage: 90, wait: true, timeoutMs: 600_000 }),
        makeRuntime({ log, clock })
      )
    ).rejects.toThrow('An instance refresh is already InProgress on Auto Scaling group web (ir-9).')
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateSnapshotCommand, 0)
    expect(asgMock).toHaveReceivedCommandTimes(StartInstanceRefreshCommand, 0)
  })

  it('refreshes only the groups that follow the new version', async () => {
    fleet()
    asgMock
      .on(DescribeInstanceRefreshesCommand, { MaxRecords: 10 })
      .resolves({ InstanceRefreshes: [] })
    asgMock.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'ir-1' })
    const result = await runPublishFlow(
      clients,
      withRefresh({ minHealthyPercentage: 90, wait: false, timeoutMs: 600_000 }),
      makeRuntime({ log, clock })
    )
    expect(asgMock).toHaveReceivedCommandTimes(StartInstanceRefreshCommand, 1)
    expect(asgMock).toHaveReceivedCommandWith(StartInstanceRefreshCommand, {
      AutoScalingGroupName: 'web'
    })
    expect(result.targets[0]!.refreshes).toEqual([
      { groupName: 'web', refreshId: 'ir-1', status: 'Pending' }
    ])
  })

  it('marks a snapshot that ends in error as failed and publishes nothing', async () => {
    fleet('error')
    ec2Mock.on(CreateTagsCommand).resolves({})
    const result = await runPublishFlow(clients, options(), makeRuntime({ log, clock }))

    expect(result.failure).toEqual({
      phase: 'wait',
      message: `Snapshot ${SNAP} failed: state error: internal error`
    })
    expect(result.state).toBe('error')
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [SNAP],
      Tags: [
        { Key: 'ebs-autoscale:status', Value: 'failed' },
        { Key: 'ebs-autoscale:failure', Value: 'internal error' }
      ]
    })
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteSnapshotCommand, 0)
    expect(snapshotReport(result, 'us-east-1')).toContain(
      `**Failed** while waiting for the snapshot: Snapshot ${SNAP} failed: state error: internal error`
    )
  })

  it('tags a snapshot whose wait timed out as failed: nothing will publish it', async () => {
    fleet()
    // Never completes within the step's timeout.
    ec2Mock
      .on(DescribeSnapshotsCommand, { SnapshotIds: [SNAP] })
      .resolves({ Snapshots: [{ SnapshotId: SNAP, State: 'pending', Progress: '10%' }] })
    ec2Mock.on(CreateTagsCommand).resolves({})
    const result = await runPublishFlow(
      clients,
      options({ timeoutMs: 20_000 }),
      makeRuntime({ log, clock })
    )

    expect(result.failure?.phase).toBe('wait')
    expect(result.state).toBe('failed')
    const tagged = ec2Mock.commandCalls(CreateTagsCommand).map((c) => c.args[0].input)
    expect(tagged).toEqual([
      {
        Resources: [SNAP],
        Tags: [
          { Key: 'ebs-autoscale:status', Value: 'failed' },
          { Key: 'ebs-autoscale:failure', Value: result.failure!.message.slice(0, 256) }
        ]
      }
    ])
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 0)
  })

  it('changes nothing under dry run', async () => {
    fleet()
    ec2Mock
      .on(CreateSnapshotCommand)
      .rejects(
        Object.assign(new Error('Request would have succeeded'), { name: 'DryRunOperation' })
      )
    const result = await runPublishFlow(
      clients,
      options({ dryRun: true }),
      makeRuntime({ log, clock })
    )

    expect(result.failure).toBeUndefined()
    expect(result.state).toBe('dry-run')
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteSnapshotCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandWith(CreateSnapshotCommand, { DryRun: true })
    expect(snapshotReport(result, 'us-east-1')).toContain(
      '**Dry run**: nothing was created, changed or deleted.'
    )
  })
})

describe('the publish flow, step by step (as the deploy calls it)', () => {
  let log: RecordingLog
  let clock: VirtualClock
  beforeEach(() => {
    ;({ clock, log } = freshRun(ec2Mock, asgMock, ssmMock))
  })

  const take = async (extra: { dryRun?: boolean; order?: string[] } = {}) => {
    const base = options()
    const prepared = await prepareTargets(clients, base.publish!)
    return takeSnapshot(
      clients,
      {
        source: base.source,
        snapshot: base.snapshot,
        prepared,
        wait: true,
        timeoutMs: base.timeoutMs,
        dryRun: extra.dryRun ?? false,
        onCreated: (s) => extra.order?.push(`created ${s.snapshotId}`)
      },
      makeRuntime({ log, clock })
    )
  }

  it('takeSnapshot: tags the snapshot with its targets, says when it exists, and waits', async () => {
    fleet()
    const order: string[] = []
    const taken = await take({ order })

    expect(order).toEqual([`created ${SNAP}`])
    expect(taken.state).toBe('completed')
    expect(taken.failure).toBeUndefined()
    expect(taken.completion).toMatchObject({ snapshotId: SNAP, state: 'completed' })
    expect(taken.snapshot.tags['ebs-autoscale:launch-template']).toBe(LT)
  })

  it('takeSnapshot: a snapshot that ends in error is a wait failure, tagged failed', async () => {
    fleet('error')
    ec2Mock.on(CreateTagsCommand).resolves({})
    const taken = await take()

    expect(taken.failure).toEqual({
      phase: 'wait',
      message: `Snapshot ${SNAP} failed: state error: internal error`
    })
    expect(taken.state).toBe('error')
    expect(taken.snapshot.snapshotId).toBe(SNAP)
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [SNAP],
      Tags: [
        { Key: 'ebs-autoscale:status', Value: 'failed' },
        { Key: 'ebs-autoscale:failure', Value: 'internal error' }
      ]
    })
  })

  it('takeSnapshot under dry run: nothing exists, so nothing is announced or waited for', async () => {
    fleet()
    ec2Mock
      .on(CreateSnapshotCommand)
      .rejects(
        Object.assign(new Error('Request would have succeeded'), { name: 'DryRunOperation' })
      )
    const order: string[] = []
    const taken = await take({ dryRun: true, order })

    expect(order).toEqual([])
    expect(taken.state).toBe('dry-run')
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 0)
  })

  const publishWith = async (instanceRefresh?: InstanceRefreshSettings, order?: string[]) => {
    const base = options()
    const settings = { ...base.publish!, ...(instanceRefresh ? { instanceRefresh } : {}) }
    const prepared = await prepareTargets(clients, settings)
    const { snapshot } = await take()
    return publishSnapshot(
      clients,
      {
        snapshot,
        prepared,
        settings,
        run,
        dryRun: false,
        onPublished: (targets) =>
          order?.push(`published ${targets.map((t) => t.published?.version).join(' ')}`)
      },
      makeRuntime({ log, clock })
    )
  }

  it('publishSnapshot: a new version, then the refresh of the groups that pick it up', async () => {
    fleet()
    const order: string[] = []
    asgMock.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] })
    asgMock.on(StartInstanceRefreshCommand).callsFake((input: { AutoScalingGroupName: string }) => {
      order.push(`refresh ${input.AutoScalingGroupName}`)
      return { InstanceRefreshId: 'ir-1' }
    })
    const result = await publishWith({ minHealthyPercentage: 90, wait: false, timeoutMs: 1 }, order)

    // The deploy's journal lets the snapshot go here: before any refresh starts.
    expect(order).toEqual(['published 2', 'refresh web'])
    expect(result.failure).toBeUndefined()
    expect(result.targets[0]!.published).toMatchObject({ version: 2, isDefault: true })
    expect(result.targets[0]!.refreshes).toEqual([
      { groupName: 'web', refreshId: 'ir-1', status: 'Pending' }
    ])
    expect(result.warmPools).toBeUndefined()
  })

  it('publishSnapshot: a target that fails to publish is the failure, phase publish', async () => {
    fleet()
    ec2Mock.on(CreateLaunchTemplateVersionCommand).rejects(
      Object.assign(new Error('Launch template version limit reached'), {
        name: 'LaunchTemplateVersionLimitExceeded'
      })
    )
    const result = await publishWith()

    expect(result.failure).toEqual({
      phase: 'publish',
      message: expect.stringMatching(
        /^CreateLaunchTemplateVersion failed: LaunchTemplateVersionLimitExceeded: Launch template version limit reached/
      )
    })
    expect(result.targets[0]!.published).toBeUndefined()
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
  })

  it('publishSnapshot: a refresh AWS refuses is the failure, phase refresh, after the publish', async () => {
    fleet()
    asgMock.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] })
    asgMock
      .on(StartInstanceRefreshCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'LimitExceeded' }))
    const result = await publishWith({ minHealthyPercentage: 90, wait: false, timeoutMs: 1 })

    expect(result.targets[0]!.published).toMatchObject({ version: 2, isDefault: true })
    expect(result.failure).toEqual({
      phase: 'refresh',
      message: 'StartInstanceRefresh failed: LimitExceeded: Rate exceeded'
    })
  })

  it('retainSnapshots throws what stopped it; runPublishFlow reports it as phase retention', async () => {
    fleet()
    ec2Mock
      .on(DescribeSnapshotsCommand, { OwnerIds: ['self'] })
      .rejects(Object.assign(new Error('not allowed'), { name: 'UnauthorizedOperation' }))
    const base = options()
    const prepared = await prepareTargets(clients, base.publish!)
    const { snapshot } = await take()
    const retain = { snapshot, prepared, retention: base.retention, dryRun: false }
    const refused =
      "DescribeSnapshots failed: UnauthorizedOperation: not allowed. Hint: the role is not allowed to make this call; compare its policy with examples/iam/ (this project's least-privilege policies)"
    await expect(retainSnapshots(clients, retain, makeRuntime({ log, clock }))).rejects.toThrow(
      refused
    )

    const result = await runPublishFlow(clients, base, makeRuntime({ log, clock }))
    expect(result.failure).toEqual({ phase: 'retention', message: refused })
    expect(result.targets[0]!.published).toMatchObject({ version: 2, isDefault: true })
    expect(result.retention).toBeUndefined()
  })
})
