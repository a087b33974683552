import { describe, expect, it } from '@jest/globals'
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  type EC2Client,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand
} from '@aws-sdk/client-ec2'
import { snapshotReport } from '../../src/report/snapshot.js'
import { makeRuntime } from '../../src/runtime.js'
import { runPublishFlow, type PublishFlowOptions } from '../../src/flows/publish.js'
import {
  codeVolumeWorld,
  IMAGE_ID,
  launch,
  setDesired,
  volumesAt
} from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'
import { RecordingLog } from '../helpers/log.js'
import { RUN } from '../../support/fixtures.js'

const emulator = useEmulator()

const run = RUN

function options(instanceId: string, extra: Partial<PublishFlowOptions> = {}): PublishFlowOptions {
  return {
    source: { kind: 'instance', instanceId, device: 'sdf' },
    snapshot: {
      consistency: { mode: 'sync', mountPoint: '/srv/app' },
      name: 'app',
      tags: { Team: 'web' },
      run
    },
    wait: true,
    timeoutMs: 60_000,
    publish: {
      targets: [{ launchTemplate: 'app-lt', sourceVersion: '$Default' }],
      device: 'sdf',
      setDefault: true
    },
    retention: { keepSnapshots: 1, keepVersions: 0 },
    dryRun: false,
    ...extra
  }
}

async function defaultVersion(ec2: EC2Client, templateId: string) {
  const out = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: templateId,
      Versions: ['$Default']
    })
  )
  return out.LaunchTemplateVersions![0]!
}

describe('snapshot against the emulator, with the real SDK', () => {
  it('publishes the primary code volume so the next instance boots from it', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const primary = world.instanceIds[0]!
    const before = await defaultVersion(c.ec2, world.launchTemplateId)
    const [codeVolume] = await volumesAt(c, primary)

    const log = new RecordingLog()
    const result = await runPublishFlow(c, options(primary), makeRuntime({ log }))

    expect(result.failure).toBeUndefined()
    const snapshotId = result.snapshot.snapshotId
    expect(snapshotId).toMatch(/^snap-/)
    expect(result.state).toBe('completed')
    expect(result.snapshot.volume.volumeId).toBe(codeVolume!.VolumeId)

    // Tagged at creation with the run and the source.
    const snap = (await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })))
      .Snapshots![0]!
    expect(Object.fromEntries(snap.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      Name: 'app',
      Team: 'web',
      'ebs-autoscale:repository': 'acme/shop',
      'ebs-autoscale:commit': run.sha,
      'ebs-autoscale:ref': 'refs/heads/main',
      'ebs-autoscale:run-url': 'https://github.com/acme/shop/actions/runs/4242',
      'ebs-autoscale:source-instance': primary,
      'ebs-autoscale:source-volume': codeVolume!.VolumeId,
      'ebs-autoscale:device': '/dev/sdf',
      'ebs-autoscale:launch-template': world.launchTemplateId,
      // `pending` from creation, `published` once it became the default.
      'ebs-autoscale:status': 'published'
    })
    expect(snap.VolumeId).toBe(codeVolume!.VolumeId)

    // The new default maps /dev/sdf to the snapshot; everything else is v1's.
    const after = await defaultVersion(c.ec2, world.launchTemplateId)
    expect(after.VersionNumber).toBe(2)
    expect(after.VersionDescription).toBe(
      `acme/shop@0123456789ab /dev/sdf <- ${snapshotId} (run 4242)`
    )
    expect(after.LaunchTemplateData!.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/sdf',
        Ebs: { ...before.LaunchTemplateData!.BlockDeviceMappings![0]!.Ebs, SnapshotId: snapshotId }
      }
    ])
    const withoutMappings = (data: typeof after.LaunchTemplateData) => ({
      ...data,
      BlockDeviceMappings: undefined
    })
    const restAfter = withoutMappings(after.LaunchTemplateData)
    const restBefore = withoutMappings(before.LaunchTemplateData)
    expect(restAfter).toEqual(restBefore)
    expect(restAfter).toMatchObject({
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't3.micro',
      KeyName: 'deploy-key',
      SecurityGroupIds: [world.securityGroupId],
      IamInstanceProfile: { Name: 'app-instance-profile' },
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Role', Value: 'app' },
            { Key: 'Environment', Value: 'production' }
          ]
        }
      ]
    })
    expect(result.targets[0]!.published).toMatchObject({
      version: 2,
      previousDefaultVersion: 1,
      isDefault: true,
      reusedVersion: false
    })
    expect(result.targets[0]!.groups).toEqual([
      {
        name: 'app-asg',
        via: 'launch-template',
        version: '$Default',
        follows: 'default',
        desiredCapacity: 3,
        instanceCount: 3
      }
    ])
    // Retention looks only at the snapshots made for this template: the world's initial one
    // (made by hand, not tagged with the template) is out of its scope.
    expect(result.retention).toMatchObject({ deletedSnapshots: [], protectedSnapshots: [] })

    // A scale-out boots with the new code volume.
    await setDesired(c, world.asgName, 4)
    const group = await c.autoscaling.send(
      new (await import('@aws-sdk/client-auto-scaling')).DescribeAutoScalingGroupsCommand({
        AutoScalingGroupNames: [world.asgName]
      })
    )
    const newcomer = group
      .AutoScalingGroups![0]!.Instances!.map((i) => i.InstanceId!)
      .find((id) => !world.instanceIds.includes(id))!
    const [newVolume] = await volumesAt(c, newcomer)
    expect(newVolume?.SnapshotId).toBe(snapshotId)
  })

  it('returns the same version when the publish is retried with the same snapshot', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const first = await runPublishFlow(c, options(world.instanceIds[0]!), makeRuntime())
    const { publishVersion } = await import('../../src/snapshot/ops/publish-version.js')
    const again = await publishVersion(c.ec2, {
      launchTemplate: world.launchTemplateId,
      sourceVersion: '1',
      snapshotId: first.snapshot.snapshotId,
      device: 'sdf',
      run: { ...run, runAttempt: '2' },
      setDefault: true
    })
    expect(again).toMatchObject({ version: 2, reusedVersion: true, isDefault: true })
  })

  it('deletes older snapshots nothing uses, beyond keep-snapshots', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const primary = world.instanceIds[0]!
    const snapshotOnly = { publish: undefined, retention: { keepSnapshots: 1, keepVersions: 0 } }
    const first = await runPublishFlow(c, options(primary, snapshotOnly), makeRuntime())
    const second = await runPublishFlow(
      c,
      options(primary, {
        ...snapshotOnly,
        snapshot: { ...options(primary).snapshot, run: { ...run, runId: '4243' } }
      }),
      makeRuntime({ log: new RecordingLog() })
    )
    expect(second.failure).toBeUndefined()
    expect(second.retention!.deletedSnapshots.map((s) => s.snapshotId)).toEqual([
      first.snapshot.snapshotId
    ])
    expect(second.retention!.protectedSnapshots).toEqual([
      { snapshotId: world.initialSnapshotId, reason: 'used by app-lt version 1' }
    ])
    const left = await c.ec2.send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:Name', Values: ['app'] }] })
    )
    expect(left.Snapshots!.map((s) => s.SnapshotId).sort()).toEqual(
      [world.initialSnapshotId, second.snapshot.snapshotId].sort()
    )
  })

  it('changes nothing under dry run', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const result = await runPublishFlow(
      c,
      options(world.instanceIds[0]!, { dryRun: true }),
      makeRuntime({ log: new RecordingLog() })
    )
    expect(result.failure).toBeUndefined()
    expect(result.state).toBe('dry-run')
    expect(result.targets[0]!.published).toMatchObject({ dryRun: true, previousDefaultVersion: 1 })
    const snaps = await c.ec2.send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:Name', Values: ['app'] }] })
    )
    expect(snaps.Snapshots!.map((s) => s.SnapshotId)).toEqual([world.initialSnapshotId])
    expect((await defaultVersion(c.ec2, world.launchTemplateId)).VersionNumber).toBe(1)
  })
})

/** A template whose code mapping is a blank volume with `Encrypted: false`, and one instance of it. */
async function blankVolumeWorld(c: typeof emulator.clients) {
  const group = await c.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: 'blank-sg', Description: 'blank' })
  )
  const template = await c.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: 'blank-lt',
      LaunchTemplateData: {
        ImageId: IMAGE_ID,
        InstanceType: 't3.micro',
        SecurityGroupIds: [group.GroupId!],
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/sdf',
            Ebs: { VolumeSize: 8, VolumeType: 'gp3', Encrypted: false, DeleteOnTermination: true }
          }
        ]
      }
    })
  )
  const templateId = template.LaunchTemplate!.LaunchTemplateId!
  const [instanceId] = await launchFromTemplate(c.ec2, templateId)
  return { templateId, instanceId: instanceId! }
}

async function launchFromTemplate(ec2: EC2Client, templateId: string): Promise<string[]> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: IMAGE_ID,
      MinCount: 1,
      MaxCount: 1,
      LaunchTemplate: { LaunchTemplateId: templateId, Version: '$Default' }
    })
  )
  return out.Instances!.map((i) => i.InstanceId!)
}

describe('encryption beside the snapshot', () => {
  it('the emulator refuses a launch with Encrypted: false beside a snapshot, as EC2 does', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 1 })
    const launching = launch(
      c.ec2,
      1,
      { Role: 'x' },
      {
        blockDeviceMappings: [
          { DeviceName: '/dev/sdf', Ebs: { SnapshotId: world.initialSnapshotId, Encrypted: false } }
        ]
      }
    )
    const refused = {
      name: 'InvalidParameter',
      message:
        'Parameter encrypted is invalid. You cannot specify the encrypted flag if specifying a snapshot id in a block device mapping.'
    }
    await expect(launching).rejects.toMatchObject(refused)

    // The same mapping in a template's default version: the group's scale-out is refused too.
    await c.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: world.launchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: {
          BlockDeviceMappings: [
            {
              DeviceName: '/dev/sdf',
              Ebs: { SnapshotId: world.initialSnapshotId, Encrypted: false }
            }
          ]
        }
      })
    )
    await c.ec2.send(
      new ModifyLaunchTemplateCommand({
        LaunchTemplateId: world.launchTemplateId,
        DefaultVersion: '2'
      })
    )
    await expect(setDesired(c, world.asgName, 2)).rejects.toMatchObject(refused)
    await expect(launchFromTemplate(c.ec2, world.launchTemplateId)).rejects.toMatchObject(refused)
  })

  it('publishes a blank Encrypted: false mapping so that instances still launch, from the snapshot', async () => {
    const c = emulator.clients
    const { templateId, instanceId } = await blankVolumeWorld(c)
    const result = await runPublishFlow(
      c,
      options(instanceId, {
        publish: {
          ...options(instanceId).publish!,
          targets: [{ launchTemplate: 'blank-lt', sourceVersion: '$Default' }]
        }
      }),
      makeRuntime({ log: new RecordingLog() })
    )
    expect(result.failure).toBeUndefined()
    const snapshotId = result.snapshot.snapshotId
    expect(result.targets[0]?.published?.mappingAfter).toEqual({
      DeviceName: '/dev/sdf',
      Ebs: { SnapshotId: snapshotId, VolumeSize: 8, VolumeType: 'gp3', DeleteOnTermination: true }
    })
    expect(result.targets[0]?.published?.encryption).toEqual({ by: 'snapshot', encrypted: false })
    expect(snapshotReport(result, 'us-east-1')).toContain(
      'New code volumes: not encrypted, like the snapshot (unless EBS encryption by default is on in the region).'
    )

    // An instance launched from the new default boots with the code volume made from the snapshot.
    const [newcomer] = await launchFromTemplate(c.ec2, templateId)
    const [volume] = await volumesAt(c, newcomer!)
    expect(volume?.SnapshotId).toBe(snapshotId)
  })
})

describe('retention per launch template', () => {
  it("a staging deploy never touches production's snapshots, though they share a name", async () => {
    const c = emulator.clients
    const production = await codeVolumeWorld(c, {
      name: 'production',
      size: 1,
      tags: { Role: 'app', Environment: 'production' }
    })
    const staging = await codeVolumeWorld(c, {
      name: 'staging',
      size: 1,
      tags: { Role: 'app', Environment: 'staging' }
    })
    const deploy = async (world: typeof production, runId: string) => {
      const base = options(world.instanceIds[0]!)
      const result = await runPublishFlow(
        c,
        {
          ...base,
          // Both environments name their snapshots after the repository.
          snapshot: { ...base.snapshot, name: 'shop', run: { ...run, runId } },
          publish: {
            ...base.publish!,
            targets: [{ launchTemplate: world.launchTemplateName, sourceVersion: '$Default' }]
          },
          retention: { keepSnapshots: 1, keepVersions: 0 }
        },
        makeRuntime({ log: new RecordingLog() })
      )
      expect(result.failure).toBeUndefined()
      return result
    }

    const prod1 = await deploy(production, '1')
    const prod2 = await deploy(production, '2')
    // Production's own retention: its first snapshot is still in version 2, an old version
    // (neither the default nor the latest) of its template.
    expect(prod2.retention).toMatchObject({
      deletedSnapshots: [],
      protectedSnapshots: [
        { snapshotId: prod1.snapshot.snapshotId, reason: 'used by production-lt version 2' }
      ]
    })

    // Before retention was scoped per template, this first staging deploy deleted prod1.
    const stage1 = await deploy(staging, '3')
    expect(stage1.retention).toMatchObject({ deletedSnapshots: [], protectedSnapshots: [] })
    const stage2 = await deploy(staging, '4')
    expect(stage2.retention).toMatchObject({
      deletedSnapshots: [],
      protectedSnapshots: [
        { snapshotId: stage1.snapshot.snapshotId, reason: 'used by staging-lt version 2' }
      ]
    })
    const left = await c.ec2.send(
      new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:Name', Values: ['shop'] }] })
    )
    expect(left.Snapshots!.map((s) => s.SnapshotId).sort()).toEqual(
      [prod1, prod2, stage1, stage2].map((r) => r.snapshot.snapshotId).sort()
    )
    const tagOf = (id: string) =>
      left
        .Snapshots!.find((s) => s.SnapshotId === id)!
        .Tags!.find((t) => t.Key === 'ebs-autoscale:launch-template')?.Value
    expect(tagOf(prod1.snapshot.snapshotId)).toBe(production.launchTemplateId)
    expect(tagOf(stage1.snapshot.snapshotId)).toBe(staging.launchTemplateId)
  })
})

describe('volume initialization rate', () => {
  it('writes the rate into the code mapping of the new default, and the summary says how long a volume takes', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 1 })
    const primary = world.instanceIds[0]!
    const base = options(primary)
    const result = await runPublishFlow(
      c,
      { ...base, publish: { ...base.publish!, volumeInitializationRate: 200 } },
      makeRuntime({ log: new RecordingLog() })
    )
    expect(result.failure).toBeUndefined()
    const after = await defaultVersion(c.ec2, world.launchTemplateId)
    expect(after.LaunchTemplateData!.BlockDeviceMappings).toEqual([
      {
        DeviceName: '/dev/sdf',
        Ebs: {
          SnapshotId: result.snapshot.snapshotId,
          VolumeSize: 8,
          VolumeType: 'gp3',
          DeleteOnTermination: true,
          VolumeInitializationRate: 200
        }
      }
    ])
    // 8 GiB = 8,192 MiB at 200 MiB/s: 41 s.
    expect(snapshotReport(result, 'us-east-1')).toContain(
      "A new instance's code volume (8 GiB) is fully initialized about 41s after launch (200 MiB/s)."
    )
  })
})

describe('keep-versions', () => {
  it('deletes old versions, which frees their snapshots for retention in the same run', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 1 })
    const primary = world.instanceIds[0]!
    const deploy = async (runId: string, keepVersions: number) => {
      const base = options(primary)
      const result = await runPublishFlow(
        c,
        {
          ...base,
          snapshot: { ...base.snapshot, run: { ...run, runId } },
          retention: { keepSnapshots: 1, keepVersions }
        },
        makeRuntime({ log: new RecordingLog() })
      )
      expect(result.failure).toBeUndefined()
      return result
    }
    const first = await deploy('1', 0) // version 2
    const second = await deploy('2', 0) // version 3
    const third = await deploy('3', 2) // version 4; keeps 4 and 3

    expect(third.retention).toMatchObject({
      deletedVersions: [2, 1],
      refusedVersions: [],
      // The first snapshot was only in version 2, gone now; the second is still in version 3.
      deletedSnapshots: [{ snapshotId: first.snapshot.snapshotId }],
      protectedSnapshots: [
        { snapshotId: second.snapshot.snapshotId, reason: 'used by app-lt version 3' }
      ]
    })
    const versions = await c.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: world.launchTemplateId })
    )
    expect(versions.LaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([3, 4])
    await expect(
      c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [first.snapshot.snapshotId] }))
    ).rejects.toMatchObject({ name: 'InvalidSnapshot.NotFound' })
  })
})
