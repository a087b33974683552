/**
 * The emulator's exec hosts (support/emulator/host_exec.py, code_volumes.py, s3_cutoff.py):
 * commands really run, against a directory per host that stands for its code volume, snapshots
 * carry that directory to the hosts launched from them, and hosts download from S3 through
 * presigned URLs, whole or cut off. The ground the release tests stand on.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import {
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand
} from '@aws-sdk/client-auto-scaling'
import {
  CreateLaunchTemplateCommand,
  CreateSnapshotCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand
} from '@aws-sdk/client-ec2'
import {
  CancelCommandCommand,
  GetCommandInvocationCommand,
  ListCommandsCommand
} from '@aws-sdk/client-ssm'
import { createBucket, presignGet, putObject } from '../../support/emulator/s3.js'
import {
  codeDir,
  codeVolumeWorld,
  execFleet,
  finishedInvocation,
  hostReadlink,
  IMAGE_ID,
  launch,
  runScript,
  sleep,
  terminate
} from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'

const emulator = useEmulator()
const MOUNT = '/mnt/code'

/** Running, not gone nor a zombie left for an init that may never reap it. */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

async function status(commandId: string, instanceId: string) {
  const inv = await emulator.clients.ssm.send(
    new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })
  )
  return inv.Status
}

async function pidWritten(file: string): Promise<number> {
  for (let i = 0; i < 200 && !existsSync(file); i++) await sleep(25)
  await sleep(50)
  return Number(readFileSync(file, 'utf8').trim())
}

describe('commands on exec hosts', () => {
  it('runs the script with bash and returns its output, exit code and environment', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(
      ssm,
      [host!],
      [
        'echo "out $EMULATOR_INSTANCE_ID"',
        'echo err >&2',
        'echo "home=${HOME-unset} path=$PATH"',
        '[[ -d $EMULATOR_ROOT_DIR ]] && echo bash-and-dir'
      ]
    )
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv).toMatchObject({ Status: 'Success', StatusDetails: 'Success', ResponseCode: 0 })
    expect(inv.StandardOutputContent).toBe(
      `out ${host}\nhome=unset path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nbash-and-dir\n`
    )
    expect(inv.StandardErrorContent).toBe('err\n')
  })

  it('reports a failing script Failed with its exit code', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(
      ssm,
      [host!],
      ['echo before', 'echo broken >&2; exit 3', 'echo never']
    )
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv).toMatchObject({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 3,
      StandardOutputContent: 'before\n',
      StandardErrorContent: 'broken\n'
    })
    const list = await ssm.send(new ListCommandsCommand({ CommandId: id }))
    expect(list.Commands![0]).toMatchObject({ Status: 'Failed', ErrorCount: 1, CompletedCount: 1 })
  })

  it('keeps a slow script InProgress until it ends', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(ssm, [host!], ['sleep 1.5', 'echo done'])
    expect(await status(id, host!)).toBe('InProgress')
    const list = await ssm.send(new ListCommandsCommand({ CommandId: id }))
    expect(list.Commands![0]).toMatchObject({ Status: 'InProgress', CompletedCount: 0 })
    await sleep(700)
    expect(await status(id, host!)).toBe('InProgress')
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv).toMatchObject({ Status: 'Success', StandardOutputContent: 'done\n' })
  })

  it('times a script out at executionTimeout and kills its process group', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(
      ssm,
      [host!],
      ['sleep 60 & echo $! > /mnt/code/child.pid', 'wait', 'echo never > /mnt/code/after'],
      { executionTimeout: ['1'] }
    )
    const child = await pidWritten(join(codeDir(emulator.root, host!), 'child.pid'))
    expect(alive(child)).toBe(true)
    const started = Date.now()
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv).toMatchObject({
      Status: 'TimedOut',
      StatusDetails: 'ExecutionTimedOut',
      ResponseCode: 137
    })
    expect(Date.now() - started).toBeLessThan(3_000)
    await sleep(100)
    expect(alive(child)).toBe(false)
    expect(existsSync(join(codeDir(emulator.root, host!), 'after'))).toBe(false)
  })

  it('cancels: the process is killed and the invocation Cancelled', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(
      ssm,
      [host!],
      ['echo $$ > /mnt/code/script.pid', 'sleep 60', 'echo never > /mnt/code/after']
    )
    const pid = await pidWritten(join(codeDir(emulator.root, host!), 'script.pid'))
    await ssm.send(new CancelCommandCommand({ CommandId: id }))
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv).toMatchObject({ Status: 'Cancelled', ResponseCode: 137 })
    await sleep(100)
    expect(alive(pid)).toBe(false)
    expect(existsSync(join(codeDir(emulator.root, host!), 'after'))).toBe(false)
  })

  it('kills the process of a host terminated mid-command; the invocation times out', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(ssm, [host!], ['echo $$ > /mnt/code/script.pid', 'sleep 60'], {
      executionTimeout: ['2']
    })
    const pid = await pidWritten(join(codeDir(emulator.root, host!), 'script.pid'))
    await terminate(ec2, [host!])
    await sleep(200)
    expect(alive(pid)).toBe(false)
    expect(await status(id, host!)).toBe('InProgress')
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv).toMatchObject({ Status: 'TimedOut', ResponseCode: -1 })
  })

  it('keeps the outcome of a command that ended before its host was terminated', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(ssm, [host!], ['echo done > /mnt/code/done'])
    for (let i = 0; i < 200 && !existsSync(join(codeDir(emulator.root, host!), 'done')); i++)
      await sleep(25)
    await sleep(200)
    await terminate(ec2, [host!])
    expect(await finishedInvocation(ssm, id, host!, 0)).toMatchObject({ Status: 'Success' })
  })

  it('keeps the first 24,000 characters of output and 8,000 of errors', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const id = await runScript(
      ssm,
      [host!],
      ["head -c 30000 /dev/zero | tr '\\0' o", "head -c 9000 /dev/zero | tr '\\0' e >&2"]
    )
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv.StandardOutputContent).toBe('o'.repeat(24_000))
    expect(inv.StandardErrorContent).toBe('e'.repeat(8_000))
  })

  it('leaves hosts without the tag as they were: Success, nothing run', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await launch(ec2, 1, { Role: 'app' })
    const id = await runScript(ssm, [host!], ['exit 5'])
    const inv = await finishedInvocation(ssm, id, host!, 0)
    expect(inv).toMatchObject({ Status: 'Success', ResponseCode: 0, StandardOutputContent: '' })
  })
})

describe('code volumes', () => {
  it('gives each host its own directory at the one mount point', async () => {
    const { ec2, ssm } = emulator.clients
    const hosts = await execFleet(ec2, { count: 2, mountPoint: MOUNT })
    const id = await runScript(
      ssm,
      hosts,
      ['pwd', 'echo "$EMULATOR_INSTANCE_ID" > id', 'ls /mnt/code'],
      {
        workingDirectory: [MOUNT]
      }
    )
    for (const host of hosts) {
      const inv = await finishedInvocation(ssm, id, host)
      // The host's directory reads as the mount point in the output, as on the host.
      expect(inv.StandardOutputContent).toBe(`${MOUNT}\nid\n`)
      expect(readFileSync(join(codeDir(emulator.root, host), 'id'), 'utf8')).toBe(`${host}\n`)
    }
  })

  it('makes the members of a code-volume world exec hosts at the mount point', async () => {
    const { ssm } = emulator.clients
    const world = await codeVolumeWorld(emulator.clients, { size: 2, execMountPoint: MOUNT })
    const id = await runScript(ssm, world.instanceIds, [
      'mkdir -p /mnt/code/releases/r7 && ln -sfn /mnt/code/releases/r7 /mnt/code/current'
    ])
    for (const host of world.instanceIds) {
      expect(await finishedInvocation(ssm, id, host)).toMatchObject({ Status: 'Success' })
      expect(hostReadlink(emulator.root, host, MOUNT, `${MOUNT}/current`)).toBe(
        `${MOUNT}/releases/r7`
      )
    }
  })

  it('carries a host code volume through a snapshot to a host the group launches from it', async () => {
    const { ec2, ssm, autoscaling } = emulator.clients
    const [builder] = await execFleet(ec2, { mountPoint: MOUNT })
    const built = await runScript(
      ssm,
      [builder!],
      [
        'mkdir -p /mnt/code/releases/r1 /mnt/code/releases/r0',
        'echo v1 > /mnt/code/releases/r1/app.txt',
        'ln -sfn /mnt/code/releases/r1 /mnt/code/current',
        'ln -sfn ../r0 /mnt/code/releases/r1/previous'
      ]
    )
    expect(await finishedInvocation(ssm, built, builder!)).toMatchObject({ Status: 'Success' })
    const volumes = await ec2.send(
      new DescribeVolumesCommand({
        Filters: [
          { Name: 'attachment.instance-id', Values: [builder!] },
          { Name: 'attachment.device', Values: ['/dev/sdf'] }
        ]
      })
    )
    const snapshot = await ec2.send(
      new CreateSnapshotCommand({ VolumeId: volumes.Volumes![0]!.VolumeId! })
    )
    // Written after the snapshot: not in it.
    const later = await runScript(ssm, [builder!], ['echo later > /mnt/code/later.txt'])
    await finishedInvocation(ssm, later, builder!)

    // The template carries no emulator tag: the snapshot makes its hosts exec hosts.
    const template = await ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'release-lt',
        LaunchTemplateData: {
          ImageId: IMAGE_ID,
          InstanceType: 't3.micro',
          BlockDeviceMappings: [
            { DeviceName: '/dev/sdf', Ebs: { SnapshotId: snapshot.SnapshotId!, VolumeSize: 8 } }
          ]
        }
      })
    )
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'release-asg',
        LaunchTemplate: {
          LaunchTemplateId: template.LaunchTemplate!.LaunchTemplateId!,
          Version: '$Default'
        },
        MinSize: 0,
        MaxSize: 2,
        DesiredCapacity: 1,
        AvailabilityZones: ['us-east-1a']
      })
    )
    const group = await autoscaling.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['release-asg'] })
    )
    const launched = group.AutoScalingGroups![0]!.Instances![0]!.InstanceId!
    expect(launched).not.toBe(builder)

    const dir = codeDir(emulator.root, launched)
    expect(readdirSync(dir).sort()).toEqual(['current', 'releases'])
    expect(readFileSync(join(dir, 'releases/r1/app.txt'), 'utf8')).toBe('v1\n')
    // The host's own directory, read as the host reads it; a relative link stays relative.
    expect(hostReadlink(emulator.root, launched, MOUNT, `${MOUNT}/current`)).toBe(
      `${MOUNT}/releases/r1`
    )
    expect(hostReadlink(emulator.root, launched, MOUNT, `${MOUNT}/releases/r1/previous`)).toBe(
      '../r0'
    )
    const tags = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [launched] }))
    expect(tags.Reservations![0]!.Instances![0]!.Tags).toEqual(
      expect.arrayContaining([
        { Key: 'emulator:ssm-exec', Value: 'true' },
        { Key: 'emulator:mount-point', Value: MOUNT }
      ])
    )
    const boot = await runScript(
      ssm,
      [launched],
      ['readlink /mnt/code/current', 'cat /mnt/code/current/app.txt']
    )
    expect(await finishedInvocation(ssm, boot, launched)).toMatchObject({
      Status: 'Success',
      StandardOutputContent: `${MOUNT}/releases/r1\nv1\n`
    })
  })
})

describe('S3 downloads from a host', () => {
  it('curl of a presigned URL gets the exact bytes', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    const bytes = randomBytes(300_000)
    await createBucket(emulator.endpoint, 'artifacts')
    await putObject(emulator.endpoint, 'artifacts', 'releases/r1.tar.gz', bytes)
    const url = await presignGet(emulator.endpoint, 'artifacts', 'releases/r1.tar.gz')
    const id = await runScript(
      ssm,
      [host!],
      [`curl -fsS -o /mnt/code/r1.tar.gz '${url}'`, 'sha256sum /mnt/code/r1.tar.gz']
    )
    const inv = await finishedInvocation(ssm, id, host!)
    const sha = createHash('sha256').update(bytes).digest('hex')
    expect(inv).toMatchObject({
      Status: 'Success',
      StandardOutputContent: `${sha}  ${MOUNT}/r1.tar.gz\n`
    })
    expect(readFileSync(join(codeDir(emulator.root, host!), 'r1.tar.gz')).equals(bytes)).toBe(true)
  })

  it('a download cut off half-way fails curl', async () => {
    const { ec2, ssm } = emulator.clients
    const [host] = await execFleet(ec2, { mountPoint: MOUNT })
    await createBucket(emulator.endpoint, 'artifacts')
    await putObject(emulator.endpoint, 'artifacts', 'r2.tar.gz', randomBytes(200_000), {
      cutOff: true
    })
    const url = await presignGet(emulator.endpoint, 'artifacts', 'r2.tar.gz')
    const id = await runScript(ssm, [host!], [`curl -fsS -o /mnt/code/r2.tar.gz '${url}'`])
    const inv = await finishedInvocation(ssm, id, host!)
    expect(inv).toMatchObject({ Status: 'Failed', ResponseCode: 18 })
    expect(inv.StandardErrorContent).toBe(
      'curl: (18) transfer closed with 100000 bytes remaining to read\n'
    )
  })
})
