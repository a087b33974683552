import { describe, expect, it } from '@jest/globals'
import {
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type EC2Client
} from '@aws-sdk/client-ec2'
import { makeRuntime } from '../../src/runtime.js'
import { runSnapshotAction, type SnapshotActionOptions } from '../../src/snapshot/run.js'
import { codeVolumeWorld, setDesired } from '../emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'
import { RecordingLog } from '../helpers/log.js'
import { RUN } from '../helpers/fixtures.js'

const emulator = useEmulator()

const run = RUN

function options(
  instanceId: string,
  extra: Partial<SnapshotActionOptions> = {}
): SnapshotActionOptions {
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

async function volumeAt(ec2: EC2Client, instanceId: string, device: string) {
  const out = await ec2.send(
    new DescribeVolumesCommand({
      Filters: [
        { Name: 'attachment.instance-id', Values: [instanceId] },
        { Name: 'attachment.device', Values: [device] }
      ]
    })
  )
  return out.Volumes ?? []
}

describe('snapshot against the emulator, with the real SDK', () => {
  it('publishes the primary code volume so the next instance boots from it', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const primary = world.instanceIds[0]!
    const before = await defaultVersion(c.ec2, world.launchTemplateId)
    const [codeVolume] = await volumeAt(c.ec2, primary, '/dev/sdf')

    const log = new RecordingLog()
    const result = await runSnapshotAction(c, options(primary), makeRuntime({ log }))

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
      // Added once it became the default (the rest were there from creation).
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
    // keep-snapshots 1, but the initial snapshot is still used by version 1.
    expect(result.retention).toMatchObject({
      deletedSnapshots: [],
      protectedSnapshots: [
        { snapshotId: world.initialSnapshotId, reason: 'used by app-lt version 1' }
      ]
    })

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
    const [newVolume] = await volumeAt(c.ec2, newcomer, '/dev/sdf')
    expect(newVolume?.SnapshotId).toBe(snapshotId)
  })

  it('returns the same version when the publish is retried with the same snapshot', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const first = await runSnapshotAction(c, options(world.instanceIds[0]!), makeRuntime())
    const { publishSnapshot } = await import('../../src/snapshot/publish.js')
    const again = await publishSnapshot(c.ec2, {
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
    const first = await runSnapshotAction(c, options(primary, snapshotOnly), makeRuntime())
    const second = await runSnapshotAction(
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
    const result = await runSnapshotAction(
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
