import { beforeEach, describe, expect, it } from '@jest/globals'
import { CreateSnapshotCommand, DescribeVolumesCommand, type Volume } from '@aws-sdk/client-ec2'
import { GetCommandInvocationCommand, SendCommandCommand } from '@aws-sdk/client-ssm'
import { execFileSync } from 'node:child_process'
import { freezeScript, syncScript, thawScript } from '../../src/snapshot/ops/consistency.js'
import { createCodeSnapshot, type CreateSnapshotOptions } from '../../src/snapshot/create.js'
import {
  deviceAliases,
  deviceKey,
  isDeviceName,
  sameDevice
} from '../../src/snapshot/ops/device.js'
import { findCodeVolume } from '../../src/snapshot/ops/volume.js'
import { makeRuntime } from '../../src/runtime.js'
import { mockAws } from '../../support/scripted-deploy.js'
import { RecordingLog } from '../helpers/log.js'
import { VirtualClock } from '../../support/ssm-fleet.js'
import { RUN } from '../../support/fixtures.js'

const {
  ec2Mock,
  ssmMock,
  clients: { ec2, ssm }
} = mockAws()
const HOST = 'i-0123456789abcdef0'
const CODE_VOL = 'vol-0c0de000000000000'
const ROOT_VOL = 'vol-0r00t000000000000'
const SNAP = 'snap-0123456789abcdef0'

const run = RUN

function volume(id: string, device: string, extra: Partial<Volume> = {}): Volume {
  return {
    VolumeId: id,
    AvailabilityZone: 'us-east-1a',
    Size: 20,
    VolumeType: 'gp3',
    Iops: 3000,
    Throughput: 125,
    Encrypted: false,
    Attachments: [{ InstanceId: HOST, Device: device, State: 'attached', VolumeId: id }],
    ...extra
  }
}

/** A host with its root at /dev/xvda and the code volume at `codeDevice`. */
function host(codeDevice: string): void {
  ec2Mock
    .on(DescribeVolumesCommand, { Filters: [{ Name: 'attachment.instance-id', Values: [HOST] }] })
    .resolves({ Volumes: [volume(ROOT_VOL, '/dev/xvda'), volume(CODE_VOL, codeDevice)] })
}

describe('device names', () => {
  it.each([
    ['/dev/sdf', 'sdf'],
    ['/dev/sdf', '/dev/xvdf'],
    ['/dev/sdf', 'xvdf'],
    ['xvdba', '/dev/sdba']
  ])('%s and %s name the same device', (a, b) => {
    expect(sameDevice(a, b)).toBe(true)
  })

  it('tells different devices apart', () => {
    expect(sameDevice('/dev/sdf', '/dev/sdg')).toBe(false)
    expect(sameDevice('/dev/sdf', '/dev/sdf1')).toBe(false)
    expect(deviceKey('/dev/nvme1n1')).toBe('nvme1n1')
    expect(deviceAliases('sdf')).toEqual(['/dev/sdf', 'sdf', '/dev/xvdf', 'xvdf'])
    expect(isDeviceName('/dev/sdf')).toBe(true)
    expect(isDeviceName('/dev/nvme1n1')).toBe(false)
    expect(isDeviceName('f')).toBe(false)
  })
})

describe('findCodeVolume', () => {
  beforeEach(() => {
    ec2Mock.reset()
  })

  it.each(['/dev/sdf', 'sdf', '/dev/xvdf', 'xvdf'])(
    'finds the volume at /dev/xvdf when asked for %s',
    async (device) => {
      host('/dev/xvdf')
      const found = await findCodeVolume(ec2, { kind: 'instance', instanceId: HOST, device })
      expect(found).toEqual({
        volumeId: CODE_VOL,
        availabilityZone: 'us-east-1a',
        sizeGiB: 20,
        volumeType: 'gp3',
        iops: 3000,
        throughput: 125,
        encrypted: false,
        instanceId: HOST,
        device: '/dev/xvdf'
      })
    }
  )

  it('lists what is attached when nothing is at the device', async () => {
    host('/dev/sdg')
    await expect(
      findCodeVolume(ec2, { kind: 'instance', instanceId: HOST, device: '/dev/sdf' })
    ).rejects.toThrow(
      `No volume is attached to ${HOST} at /dev/sdf (looked for /dev/sdf, sdf, /dev/xvdf, xvdf). ` +
        `Attached: /dev/xvda (${ROOT_VOL}), /dev/sdg (${CODE_VOL}). Set device to the code volume's device, or pass volume-id.`
    )
  })

  it('says so when the instance has no volume at all', async () => {
    ec2Mock.on(DescribeVolumesCommand).resolves({ Volumes: [] })
    await expect(
      findCodeVolume(ec2, { kind: 'instance', instanceId: HOST, device: 'sdf' })
    ).rejects.toThrow('Attached: nothing (check the instance id and the region).')
  })

  it('finds a volume by id, with a hint when it does not exist', async () => {
    ec2Mock
      .on(DescribeVolumesCommand, { VolumeIds: [CODE_VOL] })
      .resolves({ Volumes: [volume(CODE_VOL, '/dev/sdf')] })
    expect(await findCodeVolume(ec2, { kind: 'volume', volumeId: CODE_VOL })).toMatchObject({
      volumeId: CODE_VOL,
      instanceId: HOST,
      device: '/dev/sdf'
    })
    ec2Mock.reset()
    ec2Mock.on(DescribeVolumesCommand).rejects(
      Object.assign(new Error(`The volume '${CODE_VOL}' does not exist.`), {
        name: 'InvalidVolume.NotFound'
      })
    )
    await expect(findCodeVolume(ec2, { kind: 'volume', volumeId: CODE_VOL })).rejects.toThrow(
      `DescribeVolumes failed: InvalidVolume.NotFound: The volume '${CODE_VOL}' does not exist. Hint: no volume has that id in this region (check volume-id and aws-region)`
    )
  })
})

describe('createCodeSnapshot', () => {
  let log: RecordingLog
  let clock: VirtualClock
  beforeEach(() => {
    ec2Mock.reset()
    ssmMock.reset()
    log = new RecordingLog()
    clock = new VirtualClock()
    host('/dev/sdf')
    ec2Mock.on(CreateSnapshotCommand).resolves({
      SnapshotId: SNAP,
      State: 'pending',
      StartTime: new Date('2026-01-01T00:00:00Z')
    })
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } })
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Success', ResponseCode: 0 })
  })

  const rt = () => makeRuntime({ clock, log })

  const options = (extra: Partial<CreateSnapshotOptions> = {}): CreateSnapshotOptions => ({
    source: { kind: 'instance', instanceId: HOST, device: 'sdf' },
    consistency: { mode: 'none' },
    name: 'shop',
    tags: { Team: 'web' },
    run,
    ...extra
  })

  const EXPECTED_TAGS = {
    Team: 'web',
    Name: 'shop',
    'ebs-autoscale:repository': 'acme/shop',
    'ebs-autoscale:commit': run.sha,
    'ebs-autoscale:ref': 'refs/heads/main',
    'ebs-autoscale:run-url': 'https://github.com/acme/shop/actions/runs/4242',
    'ebs-autoscale:source-instance': HOST,
    'ebs-autoscale:source-volume': CODE_VOL,
    'ebs-autoscale:device': '/dev/sdf'
  }

  it('tags the snapshot at creation with the run, the source and the user tags', async () => {
    const created = await createCodeSnapshot(ec2, ssm, options(), rt())

    expect(ec2Mock).toHaveReceivedCommandTimes(CreateSnapshotCommand, 1)
    const input = ec2Mock.commandCalls(CreateSnapshotCommand)[0]!.args[0].input
    expect(input.VolumeId).toBe(CODE_VOL)
    expect(input.Description).toBe(
      'ebs-autoscale: acme/shop@0123456789ab (refs/heads/main) run 4242 attempt 1'
    )
    expect(input.TagSpecifications).toHaveLength(1)
    expect(input.TagSpecifications![0]!.ResourceType).toBe('snapshot')
    expect(
      Object.fromEntries(input.TagSpecifications![0]!.Tags!.map((t) => [t.Key, t.Value]))
    ).toEqual(EXPECTED_TAGS)
    expect(created).toMatchObject({
      snapshotId: SNAP,
      state: 'pending',
      startTime: '2026-01-01T00:00:00.000Z',
      device: '/dev/sdf',
      consistency: 'none',
      dryRun: false,
      tags: EXPECTED_TAGS
    })
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 0)
  })

  it('syncs the host before the snapshot', async () => {
    const created = await createCodeSnapshot(
      ec2,
      ssm,
      options({ consistency: { mode: 'sync', mountPoint: '/srv/app' } }),
      rt()
    )

    expect(ssmMock).toHaveReceivedCommandWith(SendCommandCommand, {
      InstanceIds: [HOST],
      DocumentName: 'AWS-RunShellScript',
      Parameters: { commands: syncScript('/srv/app'), executionTimeout: ['120'] }
    })
    expect(created.consistency).toBe('sync')
    expect(log.messages('info')).toContain(`Flushed /srv/app on ${HOST} (sync).`)
  })

  it('freezes, snapshots, and thaws, in that order', async () => {
    const order: string[] = []
    ssmMock.on(SendCommandCommand).callsFake((input: { Parameters: { commands: string[] } }) => {
      order.push(
        input.Parameters.commands.some((l) => l.startsWith('fsfreeze -f')) ? 'freeze' : 'thaw'
      )
      return { Command: { CommandId: `cmd-${order.length}` } }
    })
    ec2Mock.on(CreateSnapshotCommand).callsFake(() => {
      order.push('snapshot')
      return { SnapshotId: SNAP, State: 'pending' }
    })
    const created = await createCodeSnapshot(
      ec2,
      ssm,
      options({ consistency: { mode: 'freeze', mountPoint: '/srv/app' } }),
      rt()
    )

    expect(order).toEqual(['freeze', 'snapshot', 'thaw'])
    expect(created.consistency).toBe('freeze')
  })

  it('thaws even when CreateSnapshot fails', async () => {
    ec2Mock.on(CreateSnapshotCommand).rejects(
      Object.assign(new Error('Maximum number of snapshots reached'), {
        name: 'SnapshotLimitExceeded'
      })
    )
    await expect(
      createCodeSnapshot(
        ec2,
        ssm,
        options({ consistency: { mode: 'freeze', mountPoint: '/srv/app' } }),
        rt()
      )
    ).rejects.toThrow(
      'CreateSnapshot failed: SnapshotLimitExceeded: Maximum number of snapshots reached'
    )
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 2)
    expect(ssmMock.commandCalls(SendCommandCommand)[1]!.args[0].input.Parameters).toEqual({
      commands: thawScript('/srv/app'),
      executionTimeout: ['30']
    })
  })

  it('warns, but succeeds, when the thaw fails: the watchdog thaws', async () => {
    ssmMock
      .on(GetCommandInvocationCommand)
      .resolvesOnce({ Status: 'Success', ResponseCode: 0 })
      .resolves({
        Status: 'Failed',
        ResponseCode: 1,
        StandardErrorContent: 'fsfreeze: Invalid argument'
      })
    const created = await createCodeSnapshot(
      ec2,
      ssm,
      options({ consistency: { mode: 'freeze', mountPoint: '/srv/app' } }),
      rt()
    )
    expect(created.snapshotId).toBe(SNAP)
    expect(log.messages('warning')).toEqual([
      expect.stringMatching(
        /^Could not thaw \/srv\/app on i-0123456789abcdef0: .*fsfreeze: Invalid argument.*The watchdog on the host thaws it within 60s/s
      )
    ])
  })

  it('only checks permission under dry run, and runs nothing on the host', async () => {
    ec2Mock.on(CreateSnapshotCommand).rejects(
      Object.assign(new Error('Request would have succeeded, but DryRun flag is set.'), {
        name: 'DryRunOperation'
      })
    )
    const created = await createCodeSnapshot(
      ec2,
      ssm,
      options({ dryRun: true, consistency: { mode: 'sync' } }),
      rt()
    )

    expect(ec2Mock).toHaveReceivedCommandWith(CreateSnapshotCommand, {
      VolumeId: CODE_VOL,
      DryRun: true
    })
    expect(created).toMatchObject({ snapshotId: '', state: 'dry-run', dryRun: true })
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 0)
  })

  it('fails the dry run when the role may not create snapshots', async () => {
    ec2Mock.on(CreateSnapshotCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation.'), {
        name: 'UnauthorizedOperation'
      })
    )
    await expect(createCodeSnapshot(ec2, ssm, options({ dryRun: true }), rt())).rejects.toThrow(
      /^CreateSnapshot \(dry run\) failed: UnauthorizedOperation/
    )
  })
})

describe('host scripts', () => {
  it.each([
    ['sync', syncScript('/srv/app')],
    ['sync everything', syncScript()],
    ['freeze', freezeScript('/srv/app', 60)],
    ['thaw', thawScript('/srv/app')]
  ])('%s is valid shell', (_name, lines) => {
    expect(() => execFileSync('sh', ['-n', '-c', lines.join('\n')])).not.toThrow()
  })

  it('starts the watchdog before freezing', () => {
    const lines = freezeScript("/srv/it's", 45)
    const watchdog = lines.findIndex((l) => l.includes('sleep "$1"; fsfreeze -u'))
    const freeze = lines.findIndex((l) => l.startsWith('fsfreeze -f'))
    expect(watchdog).toBeGreaterThan(-1)
    expect(watchdog).toBeLessThan(freeze)
    expect(lines[watchdog]).toContain(`watchdog 45 '/srv/it'\\''s'`)
  })
})
