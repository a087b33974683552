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
import { applyRetention, type RetentionOptions } from '../../src/snapshot/ops/apply-retention.js'
import { launchTemplateTag } from '../../src/snapshot/ops/tags.js'
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

/** Our template's versions and other templates' versions, each template listed. */
function world(
  snapshots: Snapshot[],
  ours: LaunchTemplateVersion[],
  others: LaunchTemplateVersion[] = []
) {
  ec2Mock.on(DescribeSnapshotsCommand).resolves({ Snapshots: snapshots })
  const templates = new Map<string, string>([[LT, 'app-lt']])
  for (const v of others) templates.set(v.LaunchTemplateId!, v.LaunchTemplateName!)
  ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
    LaunchTemplates: [...templates].map(([id, name]) => ({
      LaunchTemplateId: id,
      LaunchTemplateName: name,
      DefaultVersionNumber: 1,
      LatestVersionNumber: 1
    }))
  })
  for (const id of templates.keys()) {
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: id }).resolves({
      LaunchTemplateVersions: [...ours, ...others].filter((v) => v.LaunchTemplateId === id)
    })
  }
  ec2Mock.on(DescribeImagesCommand).resolves({ Images: [] })
  ec2Mock.on(DeleteSnapshotCommand).resolves({})
}

const TEMPLATE_TAG = { Key: 'ebs-autoscale:launch-template', Value: LT }

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

    // Scoped to the template being published (alone in the tag, or among others), whatever the Name.
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [
        {
          Name: 'tag:ebs-autoscale:launch-template',
          Values: [LT, `${LT} *`, `* ${LT}`, `* ${LT} *`]
        }
      ]
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

describe('what retention never deletes', () => {
  beforeEach(() => {
    ec2Mock.reset()
  })
  const OTHER = 'lt-0ffffffffffffff00'
  const pendingTag = { Key: 'ebs-autoscale:status', Value: 'pending' }

  it('a snapshot that any version of any template maps, reading every page of templates and of versions', async () => {
    world([snap(1), snap(2), snap(3), snap(4)], [version(1, 'snap-1')])
    // Two pages of templates; the other template's versions also come in two pages, and the
    // version that maps snap-3 is an old one (neither its default nor its latest).
    ec2Mock.on(DescribeLaunchTemplatesCommand).callsFake((input: { NextToken?: string }) =>
      input.NextToken === 'templates-2'
        ? { LaunchTemplates: [{ LaunchTemplateId: OTHER, LaunchTemplateName: 'production-lt' }] }
        : {
            LaunchTemplates: [{ LaunchTemplateId: LT, LaunchTemplateName: 'app-lt' }],
            NextToken: 'templates-2'
          }
    )
    ec2Mock
      .on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: OTHER })
      .callsFake((input: { NextToken?: string }) =>
        input.NextToken === 'versions-2'
          ? { LaunchTemplateVersions: [version(2, 'snap-3', OTHER, 'production-lt')] }
          : {
              LaunchTemplateVersions: [
                version(9, 'snap-0ffff', OTHER, 'production-lt'),
                version(8, 'snap-0eeee', OTHER, 'production-lt')
              ],
              NextToken: 'versions-2'
            }
      )

    const result = await applyRetention(ec2, options({ keepSnapshots: 1 }))

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplatesCommand, { MaxResults: 200 })
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplatesCommand, {
      NextToken: 'templates-2'
    })
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateId: OTHER,
      NextToken: 'versions-2'
    })
    expect(result.protectedSnapshots).toEqual([
      { snapshotId: 'snap-3', reason: 'used by production-lt version 2' }
    ])
    expect(deleted()).toEqual(['snap-2', 'snap-4'])
  })

  it('skips a template deleted between its listing and the reading of its versions', async () => {
    world([snap(1), snap(2)], [version(1, 'snap-1')], [version(1, 'snap-2', OTHER, 'gone-lt')])
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: OTHER }).rejects(
      Object.assign(
        new Error('The specified launch template, with template ID ..., does not exist.'),
        {
          name: 'InvalidLaunchTemplateId.NotFound'
        }
      )
    )
    await applyRetention(ec2, options({ keepSnapshots: 1 }))
    expect(deleted()).toEqual(['snap-2'])
  })

  it('a snapshot a deploy may still publish: tagged pending and younger than 5 days', async () => {
    const now = Date.parse('2026-01-10T00:00:00Z')
    world(
      [
        snap(1),
        // 4 days old, pending: perhaps a deploy still rolling out the fleet.
        snap(96, { Tags: [TEMPLATE_TAG, pendingTag] }),
        // 6 days old, pending: its deploy is long gone (no job runs that long).
        snap(144, { Tags: [TEMPLATE_TAG, pendingTag] }),
        snap(150, { Tags: [TEMPLATE_TAG, { Key: 'ebs-autoscale:status', Value: 'published' }] })
      ],
      [version(1, 'snap-1')]
    )
    const result = await applyRetention(
      ec2,
      options({ keepSnapshots: 1, clock: { now: () => now } as RetentionOptions['clock'] })
    )
    expect(result.protectedSnapshots).toEqual([
      {
        snapshotId: 'snap-96',
        reason:
          'made by a deploy that may still publish it (not yet published, started 2026-01-06T00:00:00.000Z)'
      }
    ])
    expect(deleted()).toEqual(['snap-144', 'snap-150'])
  })

  it('without a template: the snapshots with the Name made for no template', async () => {
    world([snap(1), snap(2), snap(3, { Tags: [{ Key: 'Name', Value: 'shop' }, TEMPLATE_TAG] })], [])
    await applyRetention(
      ec2,
      options({ keepSnapshots: 1, launchTemplateId: undefined, protectSnapshotIds: [] })
    )
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeSnapshotsCommand, {
      OwnerIds: ['self'],
      Filters: [{ Name: 'tag:Name', Values: ['shop'] }]
    })
    // snap-3 is a deploy's: its template's retention decides, not this one.
    expect(deleted()).toEqual(['snap-2'])
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

describe('launchTemplateTag (a snapshot published to several templates)', () => {
  it('holds every id, space separated, as many whole ids as fit in 256 characters', () => {
    expect(launchTemplateTag([])).toBeUndefined()
    expect(launchTemplateTag(['lt-0aaaaaaaaaaaaaaa0'])).toBe('lt-0aaaaaaaaaaaaaaa0')
    const ids = Array.from({ length: 14 }, (_, i) => `lt-0${String(i).padStart(15, '0')}0`)
    const tag = launchTemplateTag(ids)!
    // 20-character ids: 12 fit (12 x 20 + 11 spaces = 251); none is ever cut.
    expect(tag.split(' ')).toEqual(ids.slice(0, 12))
    expect(tag.length).toBe(251)
  })
})
