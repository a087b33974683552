import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  type LaunchTemplateBlockDeviceMapping,
  ModifyLaunchTemplateCommand
} from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { withCodeSnapshot } from '../../src/snapshot/mappings.js'
import { ConcurrentDefaultChangeError, publishSnapshot } from '../../src/snapshot/publish.js'
import { publishToken } from '../../src/snapshot/token.js'
import { RecordingLog } from '../helpers/log.js'
import { RUN } from '../../support/fixtures.js'

const ec2Mock = mockClient(EC2Client)
const ec2 = new EC2Client({ region: 'us-east-1' })
const LT = 'lt-0123456789abcdef0'
const NEW = 'snap-0new000000000000a'
const OLD = 'snap-0old000000000000a'
const KMS = 'arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555'

const run = RUN

const ROOT: LaunchTemplateBlockDeviceMapping = {
  DeviceName: '/dev/xvda',
  Ebs: { VolumeSize: 30, VolumeType: 'gp3', DeleteOnTermination: true }
}
const CODE: LaunchTemplateBlockDeviceMapping = {
  DeviceName: '/dev/sdf',
  Ebs: {
    SnapshotId: OLD,
    VolumeSize: 20,
    VolumeType: 'gp3',
    Iops: 4000,
    Throughput: 250,
    Encrypted: true,
    KmsKeyId: KMS,
    DeleteOnTermination: false
  }
}
const EPHEMERAL: LaunchTemplateBlockDeviceMapping = {
  DeviceName: '/dev/sdb',
  VirtualName: 'ephemeral0'
}

/** A template whose default is `defaults[0]` on the first read, `defaults[1]` on the second. */
function template(
  defaults: number[],
  latest: number,
  mappings: LaunchTemplateBlockDeviceMapping[]
) {
  const reads = ec2Mock.on(DescribeLaunchTemplatesCommand)
  defaults.forEach((d, i) => {
    const answer = {
      LaunchTemplates: [
        {
          LaunchTemplateId: LT,
          LaunchTemplateName: 'app-lt',
          DefaultVersionNumber: d,
          LatestVersionNumber: latest + (i > 0 ? 1 : 0)
        }
      ]
    }
    if (i === defaults.length - 1) reads.resolves(answer)
    else reads.resolvesOnce(answer)
  })
  ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
    LaunchTemplateVersions: [
      {
        LaunchTemplateId: LT,
        VersionNumber: defaults[0],
        LaunchTemplateData: { ImageId: 'ami-0123456789abcdef0', BlockDeviceMappings: mappings }
      }
    ]
  })
  ec2Mock.on(CreateLaunchTemplateVersionCommand).resolves({
    LaunchTemplateVersion: { LaunchTemplateId: LT, VersionNumber: latest + 1 }
  })
  ec2Mock.on(ModifyLaunchTemplateCommand).resolves({})
}

const options = (extra: Partial<Parameters<typeof publishSnapshot>[1]> = {}) => ({
  launchTemplate: 'app-lt',
  sourceVersion: '$Default',
  snapshotId: NEW,
  device: '/dev/sdf',
  volume: { sizeGiB: 20, volumeType: 'gp3', encrypted: true },
  run,
  setDefault: true,
  log: new RecordingLog(),
  ...extra
})

describe('withCodeSnapshot', () => {
  it('replaces only the code mapping, keeping its type, size, iops, throughput, encryption and deletion', () => {
    const change = withCodeSnapshot([ROOT, CODE, EPHEMERAL], '/dev/sdf', NEW)
    expect(change.mappings).toEqual([
      ROOT,
      {
        DeviceName: '/dev/sdf',
        Ebs: {
          SnapshotId: NEW,
          VolumeSize: 20,
          VolumeType: 'gp3',
          Iops: 4000,
          Throughput: 250,
          Encrypted: true,
          KmsKeyId: KMS,
          DeleteOnTermination: false
        }
      },
      EPHEMERAL
    ])
    expect(change.before).toEqual(CODE)
    expect(change.notes).toEqual([])
  })

  it.each(['sdf', '/dev/xvdf', 'xvdf'])(
    'finds the mapping by the alias %s and keeps its name',
    (alias) => {
      const change = withCodeSnapshot([ROOT, CODE], alias, NEW)
      expect(change.after.DeviceName).toBe('/dev/sdf')
      expect(change.mappings).toHaveLength(2)
    }
  )

  it('adds a mapping when the source has none for the device', () => {
    const change = withCodeSnapshot([ROOT], 'sdf', NEW, {
      sizeGiB: 8,
      volumeType: 'gp3',
      iops: 3000,
      throughput: 125,
      encrypted: false
    })
    expect(change.mappings).toEqual([
      ROOT,
      {
        DeviceName: '/dev/sdf',
        Ebs: {
          SnapshotId: NEW,
          DeleteOnTermination: true,
          VolumeType: 'gp3',
          Iops: 3000,
          Throughput: 125
        }
      }
    ])
    expect(change.before).toBeUndefined()
    expect(change.notes).toEqual(['The source version had no mapping for sdf: added one.'])
  })

  it('raises a mapping smaller than the snapshot, and says so', () => {
    const change = withCodeSnapshot([CODE], '/dev/sdf', NEW, { sizeGiB: 50, encrypted: true })
    expect(change.after.Ebs?.VolumeSize).toBe(50)
    expect(change.notes).toEqual([
      "The mapping's VolumeSize (20 GiB) is smaller than the snapshot (50 GiB): raised to 50 GiB."
    ])
  })
})

describe('publishSnapshot', () => {
  beforeEach(() => {
    ec2Mock.reset()
  })

  it('creates a version from the source version with the full mapping list, then makes it the default', async () => {
    template([3, 3], 4, [ROOT, CODE, EPHEMERAL])
    const published = await publishSnapshot(ec2, options())

    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplatesCommand, {
      LaunchTemplateNames: ['app-lt']
    })
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeLaunchTemplateVersionsCommand, {
      LaunchTemplateId: LT,
      Versions: ['$Default']
    })
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 1)
    expect(ec2Mock.commandCalls(CreateLaunchTemplateVersionCommand)[0]!.args[0].input).toEqual({
      LaunchTemplateId: LT,
      SourceVersion: '3',
      VersionDescription: `acme/shop@0123456789ab /dev/sdf <- ${NEW} (run 4242)`,
      ClientToken: publishToken(run, LT, '/dev/sdf', NEW),
      LaunchTemplateData: {
        BlockDeviceMappings: [
          ROOT,
          { DeviceName: '/dev/sdf', Ebs: { ...CODE.Ebs, SnapshotId: NEW } },
          EPHEMERAL
        ]
      }
    })
    expect(ec2Mock).toHaveReceivedCommandWith(ModifyLaunchTemplateCommand, {
      LaunchTemplateId: LT,
      DefaultVersion: '5'
    })
    // Once it is the default, the snapshot says so (infrastructure code looks for it).
    expect(ec2Mock).toHaveReceivedCommandWith(CreateTagsCommand, {
      Resources: [NEW],
      Tags: [{ Key: 'ebs-autoscale:status', Value: 'published' }]
    })
    expect(published).toEqual({
      launchTemplateId: LT,
      launchTemplateName: 'app-lt',
      snapshotId: NEW,
      device: '/dev/sdf',
      sourceVersion: 3,
      previousDefaultVersion: 3,
      version: 5,
      isDefault: true,
      reusedVersion: false,
      mappingBefore: CODE,
      mappingAfter: { DeviceName: '/dev/sdf', Ebs: { ...CODE.Ebs, SnapshotId: NEW } },
      notes: [],
      dryRun: false
    })
  })

  it('fails and never sets the default when the default moved meanwhile', async () => {
    // Another deploy made its version 5 the default after this step read the template.
    template([3, 5], 5, [CODE])
    const publishing = publishSnapshot(ec2, options())

    await expect(publishing).rejects.toThrow(ConcurrentDefaultChangeError)
    await expect(publishing).rejects.toThrow(
      'The default version of app-lt (lt-0123456789abcdef0) changed from 3 to 5 while this step ran (another deploy?). ' +
        `Version 6 (snapshot ${NEW}) was created but NOT made the default`
    )
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0)
  })

  it('sends the same ClientToken when a step is retried, and reuses the version it answers', async () => {
    template([3, 3], 4, [CODE])
    await publishSnapshot(ec2, options())
    // The retry: AWS answers the token with version 5, made by the first attempt.
    ec2Mock.reset()
    template([5, 5], 5, [CODE])
    ec2Mock.on(CreateLaunchTemplateVersionCommand).resolves({
      LaunchTemplateVersion: { LaunchTemplateId: LT, VersionNumber: 5 }
    })
    const retried = await publishSnapshot(ec2, options({ run: { ...run, runAttempt: '2' } }))

    const token = ec2Mock.commandCalls(CreateLaunchTemplateVersionCommand)[0]!.args[0].input
      .ClientToken
    expect(token).toBe(publishToken(run, LT, '/dev/sdf', NEW))
    expect(token).toMatch(/^ebs-autoscale-[0-9a-f]{48}$/)
    expect(retried).toMatchObject({ version: 5, reusedVersion: true, isDefault: true })
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
  })

  it('gives another token to another snapshot or run', () => {
    const token = publishToken(run, LT, '/dev/sdf', NEW)
    expect(publishToken(run, LT, '/dev/sdf', OLD)).not.toBe(token)
    expect(publishToken({ ...run, runId: '4243' }, LT, '/dev/sdf', NEW)).not.toBe(token)
  })

  it('leaves the default alone with set-default false', async () => {
    template([3], 4, [CODE])
    const published = await publishSnapshot(ec2, options({ setDefault: false }))
    expect(published).toMatchObject({ version: 5, isDefault: false, previousDefaultVersion: 3 })
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeLaunchTemplatesCommand, 1)
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
  })

  it('creates and changes nothing under dry run', async () => {
    template([3], 4, [CODE])
    const published = await publishSnapshot(ec2, options({ snapshotId: '', dryRun: true }))
    expect(published).toMatchObject({ dryRun: true, isDefault: false, previousDefaultVersion: 3 })
    expect(published.version).toBeUndefined()
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
  })

  it('reads the template by id when given an id', async () => {
    template([3, 3], 4, [CODE])
    await publishSnapshot(ec2, options({ launchTemplate: LT }))
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeLaunchTemplatesCommand, {
      LaunchTemplateIds: [LT]
    })
  })
})
