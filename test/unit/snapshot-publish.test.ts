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
import { encryptionText, initializationText } from '../../src/report/snapshot.js'
import { withCodeSnapshot } from '../../src/snapshot/ops/mappings.js'
import {
  ConcurrentDefaultChangeError,
  publishVersion
} from '../../src/snapshot/ops/publish-version.js'
import { publishToken } from '../../src/snapshot/ops/token.js'
import type { PublishedSnapshot } from '../../src/snapshot/types.js'
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

/**
 * A template whose default is `defaults[i]` on the i-th read (the last one from then on) until
 * ModifyLaunchTemplate sets it; the latest is `latest`, one more from the second read on.
 */
function template(
  defaults: number[],
  latest: number,
  mappings: LaunchTemplateBlockDeviceMapping[]
) {
  let reads = 0
  let modified: number | undefined
  ec2Mock.on(DescribeLaunchTemplatesCommand).callsFake(() => {
    const i = Math.min(reads++, defaults.length - 1)
    return {
      LaunchTemplates: [
        {
          LaunchTemplateId: LT,
          LaunchTemplateName: 'app-lt',
          DefaultVersionNumber: modified ?? defaults[i],
          LatestVersionNumber: latest + (i > 0 ? 1 : 0)
        }
      ]
    }
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
  ec2Mock.on(ModifyLaunchTemplateCommand).callsFake((input: { DefaultVersion?: string }) => {
    modified = Number(input.DefaultVersion)
    return {}
  })
}

const options = (extra: Partial<Parameters<typeof publishVersion>[1]> = {}) => ({
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

describe('withCodeSnapshot: encryption beside the snapshot', () => {
  const blank = (ebs: LaunchTemplateBlockDeviceMapping['Ebs']) => [
    { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 8, VolumeType: 'gp3' as const, ...ebs } }
  ]
  const plain = { sizeGiB: 8, encrypted: false }
  const sealed = { sizeGiB: 8, encrypted: true, kmsKeyId: KMS }

  it("drops Encrypted: false (EC2 refuses it beside a snapshot): the volume takes the snapshot's", () => {
    const change = withCodeSnapshot(blank({ Encrypted: false }), '/dev/sdf', NEW, plain)
    expect(change.after.Ebs).toEqual({ SnapshotId: NEW, VolumeSize: 8, VolumeType: 'gp3' })
    expect(change.encryption).toEqual({ by: 'snapshot', encrypted: false })
    expect(change.notes).toEqual([
      "The source mapping sets Encrypted: false, which EC2 refuses beside a snapshot (every launch would fail): left out, so new volumes take the snapshot's encryption."
    ])
  })

  it('drops Encrypted: false beside an encrypted snapshot too, and says which key the volume gets', () => {
    const change = withCodeSnapshot(blank({ Encrypted: false }), '/dev/sdf', NEW, sealed)
    expect(change.after.Ebs).not.toHaveProperty('Encrypted')
    expect(change.encryption).toEqual({ by: 'snapshot', encrypted: true, kmsKeyId: KMS })
  })

  it('keeps Encrypted: true with its KmsKeyId: it encrypts a volume made from an unencrypted snapshot', () => {
    const other = 'arn:aws:kms:us-east-1:123456789012:key/other'
    const change = withCodeSnapshot(
      blank({ Encrypted: true, KmsKeyId: other }),
      '/dev/sdf',
      NEW,
      plain
    )
    expect(change.after.Ebs).toMatchObject({ Encrypted: true, KmsKeyId: other, SnapshotId: NEW })
    expect(change.encryption).toEqual({ by: 'template', encrypted: true, kmsKeyId: other })
    expect(change.notes).toEqual([])
  })

  it("keeps Encrypted: true without a key: the region's default key, or the snapshot's when it has one", () => {
    const fromPlain = withCodeSnapshot(blank({ Encrypted: true }), '/dev/sdf', NEW, plain)
    expect(fromPlain.after.Ebs).toMatchObject({ Encrypted: true })
    expect(fromPlain.encryption).toEqual({ by: 'template', encrypted: true })
    const fromSealed = withCodeSnapshot(blank({ Encrypted: true }), '/dev/sdf', NEW, sealed)
    expect(fromSealed.encryption).toEqual({ by: 'snapshot', encrypted: true, kmsKeyId: KMS })
  })

  it('drops a KmsKeyId that comes without Encrypted: true', () => {
    const change = withCodeSnapshot(blank({ KmsKeyId: KMS }), '/dev/sdf', NEW, plain)
    expect(change.after.Ebs).toEqual({ SnapshotId: NEW, VolumeSize: 8, VolumeType: 'gp3' })
    expect(change.notes).toEqual([
      'The source mapping names a KmsKeyId without Encrypted: true, which EC2 refuses: left out.'
    ])
  })

  it('a new mapping carries no encryption flag: the volume is like the snapshot', () => {
    const change = withCodeSnapshot([], '/dev/sdf', NEW, sealed)
    expect(change.after.Ebs).toEqual({ SnapshotId: NEW, DeleteOnTermination: true })
    expect(change.encryption).toEqual({ by: 'snapshot', encrypted: true, kmsKeyId: KMS })
  })
})

describe('encryption and initialization in the summary', () => {
  const published = (extra: Partial<PublishedSnapshot>): PublishedSnapshot => ({
    launchTemplateId: LT,
    launchTemplateName: 'app-lt',
    snapshotId: NEW,
    device: '/dev/sdf',
    sourceVersion: 3,
    previousDefaultVersion: 3,
    version: 4,
    isDefault: true,
    reusedVersion: false,
    mappingAfter: { DeviceName: '/dev/sdf', Ebs: { SnapshotId: NEW } },
    encryption: { by: 'snapshot', encrypted: false },
    volumeSizeGiB: 8,
    notes: [],
    dryRun: false,
    ...extra
  })

  it.each([
    [
      { by: 'snapshot', encrypted: true, kmsKeyId: 'k-1' },
      'encrypted, like the snapshot (KMS key `k-1`)'
    ],
    [
      { by: 'template', encrypted: true, kmsKeyId: 'k-2' },
      'encrypted with KMS key `k-2` (the template asks for it)'
    ],
    [
      { by: 'template', encrypted: true },
      "encrypted with the region's default EBS KMS key (the template asks for it)"
    ],
    [
      { by: 'snapshot', encrypted: false },
      'not encrypted, like the snapshot (unless EBS encryption by default is on in the region)'
    ]
  ] as const)('%j reads "%s"', (encryption, text) => {
    expect(encryptionText(encryption)).toBe(text)
  })

  it('says how long a new code volume takes to initialize at the rate, or that it loads lazily', () => {
    const at = (rate?: number) =>
      initializationText(
        published({
          mappingAfter: {
            DeviceName: '/dev/sdf',
            Ebs: { SnapshotId: NEW, ...(rate ? { VolumeInitializationRate: rate } : {}) }
          },
          volumeSizeGiB: 30
        })
      )
    // 30 GiB = 30,720 MiB; at 300 MiB/s 102.4 s, at 100 MiB/s 307.2 s.
    expect(at(300)).toBe(
      "A new instance's code volume (30 GiB) is fully initialized about 1m42s after launch (300 MiB/s)."
    )
    expect(at(100)).toBe(
      "A new instance's code volume (30 GiB) is fully initialized about 5m7s after launch (100 MiB/s)."
    )
    expect(at()).toContain(
      "No volume initialization rate: a new instance's code volume loads lazily from S3, so the first read of each block is slow"
    )
    expect(at()).toContain('Set `volume-initialization-rate` (100-300 MiB/s)')
  })
})

describe('publishVersion', () => {
  beforeEach(() => {
    ec2Mock.reset()
  })

  it('creates a version from the source version with the full mapping list, then makes it the default', async () => {
    template([3, 3], 4, [ROOT, CODE, EPHEMERAL])
    const published = await publishVersion(ec2, options())

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
      ClientToken: publishToken(run, LT, '/dev/sdf', NEW, 3),
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
      encryption: { by: 'template', encrypted: true, kmsKeyId: KMS },
      volumeSizeGiB: 20,
      notes: [],
      dryRun: false
    })
  })

  it('fails and never sets the default when the default moved meanwhile', async () => {
    // Another deploy made its version 5 the default after this step read the template.
    template([3, 5], 5, [CODE])
    const publishing = publishVersion(ec2, options())

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
    await publishVersion(ec2, options())
    // The retry: the first attempt made version 5 but died before making it the default; AWS
    // answers the token with it.
    ec2Mock.reset()
    template([3, 3], 5, [CODE])
    ec2Mock.on(CreateLaunchTemplateVersionCommand).resolves({
      LaunchTemplateVersion: { LaunchTemplateId: LT, VersionNumber: 5 }
    })
    const retried = await publishVersion(ec2, options({ run: { ...run, runAttempt: '2' } }))

    const token = ec2Mock.commandCalls(CreateLaunchTemplateVersionCommand)[0]!.args[0].input
      .ClientToken
    expect(token).toBe(publishToken(run, LT, '/dev/sdf', NEW, 3))
    expect(token).toMatch(/^ebs-autoscale-[0-9a-f]{48}$/)
    expect(retried).toMatchObject({ version: 5, reusedVersion: true, isDefault: true })
    expect(ec2Mock).toHaveReceivedCommandWith(ModifyLaunchTemplateCommand, {
      LaunchTemplateId: LT,
      DefaultVersion: '5'
    })
  })

  it('makes no version when a retry finds the default already boots the snapshot', async () => {
    template([5], 5, [{ ...CODE, Ebs: { ...CODE.Ebs, SnapshotId: NEW } }])
    const retried = await publishVersion(ec2, options({ run: { ...run, runAttempt: '2' } }))
    expect(retried).toMatchObject({ version: 5, reusedVersion: true, isDefault: true })
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
  })

  it('gives another token to another snapshot, run or source version', () => {
    const token = publishToken(run, LT, '/dev/sdf', NEW, 3)
    expect(publishToken(run, LT, '/dev/sdf', NEW, 3)).toBe(token)
    expect(publishToken(run, LT, '/dev/sdf', OLD, 3)).not.toBe(token)
    expect(publishToken({ ...run, runId: '4243' }, LT, '/dev/sdf', NEW, 3)).not.toBe(token)
    // A re-run publishing the same snapshot from a newer default (rollback-to again).
    expect(publishToken(run, LT, '/dev/sdf', NEW, 7)).not.toBe(token)
  })

  it('leaves the default alone with set-default false', async () => {
    template([3], 4, [CODE])
    const published = await publishVersion(ec2, options({ setDefault: false }))
    expect(published).toMatchObject({ version: 5, isDefault: false, previousDefaultVersion: 3 })
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeLaunchTemplatesCommand, 1)
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
  })

  it('creates and changes nothing under dry run', async () => {
    template([3], 4, [CODE])
    const published = await publishVersion(ec2, options({ snapshotId: '', dryRun: true }))
    expect(published).toMatchObject({ dryRun: true, isDefault: false, previousDefaultVersion: 3 })
    expect(published.version).toBeUndefined()
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateLaunchTemplateVersionCommand, 0)
    expect(ec2Mock).toHaveReceivedCommandTimes(ModifyLaunchTemplateCommand, 0)
  })

  it('reads the template by id when given an id', async () => {
    template([3, 3], 4, [CODE])
    await publishVersion(ec2, options({ launchTemplate: LT }))
    expect(ec2Mock).toHaveReceivedNthCommandWith(1, DescribeLaunchTemplatesCommand, {
      LaunchTemplateIds: [LT]
    })
  })
})
