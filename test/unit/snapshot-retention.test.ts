import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteLaunchTemplateVersionsCommand,
  DeleteSnapshotCommand,
  DescribeImagesCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  EC2Client,
  type LaunchTemplateVersion,
  type Snapshot
} from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { applyRetention, type RetentionOptions } from '../../src/snapshot/retention.js'
import { RecordingLog } from '../helpers/log.js'

const ec2Mock = mockClient(EC2Client)
const ec2 = new EC2Client({ region: 'us-east-1' })
const LT = 'lt-0123456789abcdef0'

/** snap-N started N hours before the newest: snap-1 is the newest. */
function snap(n: number, extra: Partial<Snapshot> = {}): Snapshot {
  return {
    SnapshotId: `snap-${n}`,
    State: 'completed',
    StartTime: new Date(Date.parse('2026-01-10T00:00:00Z') - n * 3_600_000),
    VolumeSize: 8,
    Tags: [{ Key: 'Name', Value: 'shop' }],
    ...extra
  }
}

function version(
  n: number,
  snapshotId: string,
  template = LT,
  name = 'app-lt'
): LaunchTemplateVersion {
  return {
    LaunchTemplateId: template,
    LaunchTemplateName: name,
    VersionNumber: n,
    LaunchTemplateData: {
      BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { SnapshotId: snapshotId } }]
    }
  }
}

function world(
  snapshots: Snapshot[],
  ours: LaunchTemplateVersion[],
  others: LaunchTemplateVersion[] = []
) {
  ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: snapshots })
  ec2Mock
    .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: LT })
    .resolves({ LaunchTemplateVersions: ours })
  ec2Mock
    .on(DescribeLaunchTemplateVersionsCommand, { Versions: ['$Default', '$Latest'] })
    .resolves({ LaunchTemplateVersions: [...ours.slice(-1), ...others] })
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] })
  ec2Mock.on(DeleteSnapshotCommand).resolves({})
}

const options = (extra: Partial<RetentionOptions> = {}): RetentionOptions => ({
  name: 'shop',
  keepSnapshots: 2,
  keepVersions: 0,
  launchTemplateId: LT,
  protectSnapshotIds: ['snap-1'],
  dryRun: false,
  log: new RecordingLog(),
  ...extra
})

const deleted = () =>
  ec2Mock.commandCalls(DeleteSnapshotCommand).map((c) => c.args[0].input.SnapshotId)

describe('snapshot retention', () => {
  beforeEach(() => {
    ec2Mock.reset()
  })

  it('keeps the newest, those in use by a template or an AMI, and reports a refused delete', async () => {
    world(
      [
        snap(1),
        snap(2),
        snap(3),
        snap(4),
        snap(5),
        snap(6),
        snap(7),
        snap(8, { State: 'pending', Progress: '40%' }),
        // Newer than snap-2, but a failed rollout's: it does not take a kept place.
        snap(0, {
          Tags: [
            { Key: 'Name', Value: 'shop' },
            { Key: 'ebs-autoscale:status', Value: 'failed' }
          ]
        })
      ],
      [version(3, 'snap-3'), version(4, 'snap-1')],
      [version(2, 'snap-5', 'lt-0ffffffffffffff00', 'other-lt')]
    )
    ec2Mock.on(DescribeImagesCommand).resolves({
      Images: [
        {
          ImageId: 'ami-0aaa',
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-4' } }]
        }
      ]
    })
    ec2Mock.on(DeleteSnapshotCommand, { SnapshotId: 'snap-6' }).rejects(
      Object.assign(new Error('The snapshot snap-6 is currently in use by ami-0bbb'), {
        name: 'InvalidSnapshot.InUse'
      })
    )

    const result = await applyRetention(ec2, options())

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:Name', Values: ['shop'] }]
    })
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeImagesCommand, {
      Owners: ['self'],
      Filters: [
        {
          Name: 'block-device-mapping.snapshot-id',
          Values: ['snap-0', 'snap-3', 'snap-4', 'snap-5', 'snap-6', 'snap-7']
        }
      ]
    })
    expect(deleted()).toEqual(['snap-0', 'snap-6', 'snap-7'])
    expect(result).toEqual({
      deletedSnapshots: [
        {
          snapshotId: 'snap-0',
          state: 'completed',
          startTime: '2026-01-10T00:00:00.000Z',
          volumeSizeGiB: 8
        },
        {
          snapshotId: 'snap-7',
          state: 'completed',
          startTime: '2026-01-09T17:00:00.000Z',
          volumeSizeGiB: 8
        }
      ],
      protectedSnapshots: [
        { snapshotId: 'snap-3', reason: 'used by app-lt version 3' },
        { snapshotId: 'snap-4', reason: 'behind image ami-0aaa' },
        { snapshotId: 'snap-5', reason: 'used by other-lt version 2' }
      ],
      refusedSnapshots: [
        {
          snapshotId: 'snap-6',
          error:
            'DeleteSnapshot failed: InvalidSnapshot.InUse: The snapshot snap-6 is currently in use by ami-0bbb'
        }
      ],
      deletedVersions: [],
      refusedVersions: [],
      dryRun: false
    })
  })

  it('counts the snapshot just made as the newest, whatever its start time says', async () => {
    world([snap(2), snap(1, { StartTime: new Date('2020-01-01T00:00:00Z') })], [])
    const result = await applyRetention(ec2, options({ keepSnapshots: 1 }))
    expect(deleted()).toEqual(['snap-2'])
    expect(result.protectedSnapshots).toEqual([])
  })

  it('never deletes the snapshot just made, even when it is not among the kept', async () => {
    world([snap(2), snap(1, { Tags: [{ Key: 'ebs-autoscale:status', Value: 'failed' }] })], [])
    const result = await applyRetention(ec2, options({ keepSnapshots: 1 }))
    expect(deleted()).toEqual([])
    expect(result.protectedSnapshots).toEqual([{ snapshotId: 'snap-1', reason: 'just made' }])
  })

  it('lists without deleting under dry run, counting the snapshot still to be made', async () => {
    world([snap(2), snap(3), snap(4)], [])
    const result = await applyRetention(
      ec2,
      options({ dryRun: true, upcomingSnapshot: true, protectSnapshotIds: [] })
    )
    expect(ec2Mock).toHaveReceivedCommandTimes(DeleteSnapshotCommand, 0)
    expect(result.deletedSnapshots.map((s) => s.snapshotId)).toEqual(['snap-3', 'snap-4'])
    expect(result.dryRun).toBe(true)
  })

  it('keeps everything with keep-snapshots 0', async () => {
    world([snap(1), snap(2), snap(3)], [])
    const result = await applyRetention(ec2, options({ keepSnapshots: 0 }))
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeSnapshotsCommand, 0)
    expect(result.deletedSnapshots).toEqual([])
  })
})

describe('launch template version retention', () => {
  beforeEach(() => {
    ec2Mock.reset()
  })

  it('deletes old versions but never the default, the latest or a pinned one; frees their snapshots', async () => {
    const versions = [1, 2, 3, 4, 5, 6].map((n) => version(n, `snap-${10 + n}`))
    world([snap(1), snap(11), snap(12), snap(13), snap(14), snap(15), snap(16)], versions)
    ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: LT,
          LaunchTemplateName: 'app-lt',
          DefaultVersionNumber: 4,
          LatestVersionNumber: 6
        }
      ]
    })
    ec2Mock.on(DeleteLaunchTemplateVersionsCommand).resolves({
      SuccessfullyDeletedLaunchTemplateVersions: [{ LaunchTemplateId: LT, VersionNumber: 3 }],
      UnsuccessfullyDeletedLaunchTemplateVersions: [
        {
          LaunchTemplateId: LT,
          VersionNumber: 1,
          ResponseError: { Code: 'unexpectedError', Message: 'Could not delete version 1' }
        }
      ]
    })

    const result = await applyRetention(
      ec2,
      options({ keepSnapshots: 1, keepVersions: 2, protectVersions: [2] })
    )

    expect(ec2Mock).toHaveReceivedCommandWith(DeleteLaunchTemplateVersionsCommand, {
      LaunchTemplateId: LT,
      Versions: ['3', '1']
    })
    expect(result.deletedVersions).toEqual([3])
    expect(result.refusedVersions).toEqual([
      { version: 1, error: 'unexpectedError: Could not delete version 1' }
    ])
    // snap-13 was only in version 3, now gone; the others are still referenced.
    expect(deleted()).toEqual(['snap-13'])
    expect(result.protectedSnapshots.map((p) => p.snapshotId)).toEqual([
      'snap-11',
      'snap-12',
      'snap-14',
      'snap-15',
      'snap-16'
    ])
  })
})
