/** Builds worlds in the emulator through the real SDK, as a real account would hold them. */
import { readlinkSync } from 'node:fs'
import { join } from 'node:path'
import {
  AutoScalingClient,
  CreateAutoScalingGroupCommand,
  SetDesiredCapacityCommand
} from '@aws-sdk/client-auto-scaling'
import {
  CreateLaunchTemplateCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type BlockDeviceMapping,
  type _InstanceType
} from '@aws-sdk/client-ec2'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import {
  AddTagsCommand,
  CreateTargetGroupCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  ModifyTargetGroupAttributesCommand
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  GetCommandInvocationCommand,
  SendCommandCommand,
  SSMClient,
  type GetCommandInvocationCommandOutput
} from '@aws-sdk/client-ssm'
import { S3Client } from '@aws-sdk/client-s3'
import type { Clients } from '../../src/aws/clients.js'
import { describeGroup } from '../../src/hosts/resolve.js'

export const IMAGE_ID = 'ami-0123456789abcdef0'

export type TestClients = Clients

export function testClients(endpoint: string): TestClients {
  const config = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    maxAttempts: 2
  }
  return {
    region: 'us-east-1',
    ec2: new EC2Client(config),
    ssm: new SSMClient(config),
    autoscaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    cloudwatch: new CloudWatchClient(config)
  }
}

const asTags = (tags: Record<string, string>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))

/** One reservation of `count` instances carrying `tags`. */
export async function launch(
  ec2: EC2Client,
  count: number,
  tags: Record<string, string>,
  extra: { blockDeviceMappings?: BlockDeviceMapping[]; instanceType?: _InstanceType } = {}
): Promise<string[]> {
  const out = await ec2.send(
    new RunInstancesCommand({
      ImageId: IMAGE_ID,
      MinCount: count,
      MaxCount: count,
      InstanceType: extra.instanceType ?? 't3.micro',
      TagSpecifications: [{ ResourceType: 'instance', Tags: asTags(tags) }],
      ...(extra.blockDeviceMappings ? { BlockDeviceMappings: extra.blockDeviceMappings } : {})
    })
  )
  // Instances of one reservation share a launch time, so hosts order them by id: return them so.
  return (out.Instances ?? []).map((i) => i.InstanceId!).sort()
}

export async function tag(
  ec2: EC2Client,
  ids: string[],
  tags: Record<string, string>
): Promise<void> {
  await ec2.send(new CreateTagsCommand({ Resources: ids, Tags: asTags(tags) }))
}

export async function stop(ec2: EC2Client, ids: string[]): Promise<void> {
  await ec2.send(new StopInstancesCommand({ InstanceIds: ids }))
}

export async function terminate(ec2: EC2Client, ids: string[]): Promise<void> {
  await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }))
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The emulator's tags that make hosts run their commands against a directory standing for their
 * code volume (host_exec.py, code_volumes.py): commands see `mountPoint` as that directory.
 */
export function execTags(mountPoint: string): Record<string, string> {
  return { 'emulator:ssm-exec': 'true', 'emulator:mount-point': mountPoint }
}

/**
 * `count` hosts that really run their AWS-RunShellScript commands, each with an empty code
 * volume at /dev/sdf (so snapshots of it find it) that its commands reach at `mountPoint`.
 */
export async function execFleet(
  ec2: EC2Client,
  options: { count?: number; mountPoint: string; tags?: Record<string, string> }
): Promise<string[]> {
  return launch(
    ec2,
    options.count ?? 1,
    { ...(options.tags ?? {}), ...execTags(options.mountPoint) },
    {
      blockDeviceMappings: [
        {
          DeviceName: '/dev/sdf',
          Ebs: { VolumeSize: 8, VolumeType: 'gp3', DeleteOnTermination: true }
        }
      ]
    }
  )
}

/** The directory that stands for an exec host's code volume; `root` is the emulator's. */
export function codeDir(root: string, instanceId: string): string {
  return join(root, instanceId)
}

/**
 * Where the symlink at `path` (a path under `mountPoint`, as the host names it) points, as the
 * host would say: the host's directory reads as the mount point again.
 */
export function hostReadlink(
  root: string,
  instanceId: string,
  mountPoint: string,
  path: string
): string {
  const dir = codeDir(root, instanceId)
  const base = mountPoint.replace(/\/+$/, '')
  if (path !== base && !path.startsWith(`${base}/`))
    throw new Error(`${path} is not under the mount point ${mountPoint}`)
  const target = readlinkSync(join(dir, path.slice(base.length)))
  return target === dir || target.startsWith(`${dir}/`) ? base + target.slice(dir.length) : target
}

/** Runs `commands` (AWS-RunShellScript) on the hosts; returns the command id. */
export async function runScript(
  ssm: SSMClient,
  instanceIds: string[],
  commands: string[],
  parameters: Record<string, string[]> = {}
): Promise<string> {
  const out = await ssm.send(
    new SendCommandCommand({
      InstanceIds: instanceIds,
      DocumentName: 'AWS-RunShellScript',
      Parameters: { commands, ...parameters }
    })
  )
  return out.Command!.CommandId!
}

/** The host's invocation once it has left InProgress (within `withinMs`). */
export async function finishedInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string,
  withinMs = 20_000
): Promise<GetCommandInvocationCommandOutput> {
  const deadline = Date.now() + withinMs
  for (;;) {
    const inv = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })
    )
    if (inv.Status !== 'InProgress' && inv.Status !== 'Pending') return inv
    if (Date.now() > deadline)
      throw new Error(`${commandId} on ${instanceId} still ${inv.Status} after ${withinMs} ms`)
    await sleep(50)
  }
}

export interface CodeVolumeWorld {
  initialSnapshotId: string
  securityGroupId: string
  launchTemplateId: string
  launchTemplateName: string
  asgName: string
  /** The group's members, oldest first. */
  instanceIds: string[]
}

/**
 * The world this project was designed for: app servers whose code lives on a volume at
 * /dev/sdf made from a snapshot, a launch template whose v1 maps /dev/sdf to it, and an Auto
 * Scaling group following $Default.
 */
export async function codeVolumeWorld(
  c: TestClients,
  options: {
    size?: number
    name?: string
    tags?: Record<string, string>
    /** Target groups the group registers its members in (behindTargetGroups builds them). */
    targetGroupArns?: string[]
    /** Classic load balancers named on the group (the emulator holds none: only the names). */
    loadBalancerNames?: string[]
    /** Members run their commands, each against its own code directory at this mount point. */
    execMountPoint?: string
  } = {}
): Promise<CodeVolumeWorld> {
  const name = options.name ?? 'app'
  const tags = {
    ...(options.tags ?? { Role: 'app', Environment: 'production' }),
    ...(options.execMountPoint ? execTags(options.execMountPoint) : {})
  }
  const volume = await c.ec2.send(
    new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 })
  )
  const snapshot = await c.ec2.send(
    new CreateSnapshotCommand({
      VolumeId: volume.VolumeId!,
      TagSpecifications: [{ ResourceType: 'snapshot', Tags: asTags({ Name: name }) }]
    })
  )
  // Instances launch only with a security group that exists (the emulator checks, as AWS does).
  const securityGroup = await c.ec2.send(
    new CreateSecurityGroupCommand({ GroupName: `${name}-sg`, Description: `${name} servers` })
  )
  const template = await c.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: `${name}-lt`,
      VersionDescription: 'initial',
      LaunchTemplateData: {
        ImageId: IMAGE_ID,
        InstanceType: 't3.micro',
        KeyName: 'deploy-key',
        SecurityGroupIds: [securityGroup.GroupId!],
        IamInstanceProfile: { Name: 'app-instance-profile' },
        TagSpecifications: [{ ResourceType: 'instance', Tags: asTags(tags) }],
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/sdf',
            Ebs: {
              SnapshotId: snapshot.SnapshotId!,
              VolumeSize: 8,
              VolumeType: 'gp3',
              DeleteOnTermination: true
            }
          }
        ]
      }
    })
  )
  const asgName = `${name}-asg`
  const size = options.size ?? 3
  await c.autoscaling.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: asgName,
      LaunchTemplate: {
        LaunchTemplateId: template.LaunchTemplate!.LaunchTemplateId!,
        Version: '$Default'
      },
      MinSize: 0,
      MaxSize: 20,
      DesiredCapacity: size,
      AvailabilityZones: ['us-east-1a'],
      ...(options.targetGroupArns ? { TargetGroupARNs: options.targetGroupArns } : {}),
      ...(options.loadBalancerNames ? { LoadBalancerNames: options.loadBalancerNames } : {}),
      Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true }))
    })
  )
  const group = await describeGroup(c.autoscaling, asgName)
  return {
    initialSnapshotId: snapshot.SnapshotId!,
    securityGroupId: securityGroup.GroupId!,
    launchTemplateId: template.LaunchTemplate!.LaunchTemplateId!,
    launchTemplateName: `${name}-lt`,
    asgName,
    instanceIds: (group?.Instances ?? []).map((i) => i.InstanceId!)
  }
}

/**
 * Two groups of two hosts on two templates (web-lt, worker-lt), carrying the same tags; the web
 * hosts launched a second earlier, so they come first in the stable order (the primary is one).
 */
export async function webAndWorkers(c: TestClients): Promise<[CodeVolumeWorld, CodeVolumeWorld]> {
  const web = await codeVolumeWorld(c, { name: 'web', size: 2 })
  // Launch times are whole seconds.
  await sleep(1100)
  const worker = await codeVolumeWorld(c, { name: 'worker', size: 2 })
  return [web, worker]
}

/** The group's members now, sorted. */
export async function groupMembers(c: TestClients, asgName: string): Promise<string[]> {
  const group = await describeGroup(c.autoscaling, asgName)
  return (group?.Instances ?? []).map((i) => i.InstanceId!).sort()
}

/** The volumes attached to an instance at `device`. */
export async function volumesAt(c: TestClients, instanceId: string, device = '/dev/sdf') {
  const out = await c.ec2.send(
    new DescribeVolumesCommand({
      Filters: [
        { Name: 'attachment.instance-id', Values: [instanceId] },
        { Name: 'attachment.device', Values: [device] }
      ]
    })
  )
  return out.Volumes ?? []
}

/** The snapshot an instance's code volume (at `device`) was made from: what it boots. */
export async function codeSnapshotOf(
  c: TestClients,
  instanceId: string,
  device = '/dev/sdf'
): Promise<string | undefined> {
  return (await volumesAt(c, instanceId, device))[0]?.SnapshotId
}

export async function setDesired(c: TestClients, asgName: string, capacity: number): Promise<void> {
  await c.autoscaling.send(
    new SetDesiredCapacityCommand({ AutoScalingGroupName: asgName, DesiredCapacity: capacity })
  )
}

export interface TargetGroupOptions {
  name: string
  /** The port targets are registered on (the group's members get it). */
  port?: number
  /** deregistration_delay.timeout_seconds; AWS's default is 300. */
  deregistrationDelaySeconds?: number
  intervalSeconds?: number
  healthyThreshold?: number
  /**
   * The emulator's `emulator:time-scale` tag: every ELB duration times this. The default 0.01
   * drains a 300 s delay in 3 s and passes 10 s x 2 health checks in 0.2 s.
   */
  timeScale?: number
}

export interface TargetGroupRef {
  arn: string
  name: string
}

/** An instance target group, timed by the emulator as AWS times it, scaled by `timeScale`. */
export async function createTargetGroup(
  c: TestClients,
  options: TargetGroupOptions
): Promise<TargetGroupRef> {
  const vpcs = await c.ec2.send(new DescribeVpcsCommand({}))
  const out = await c.elbv2.send(
    new CreateTargetGroupCommand({
      Name: options.name,
      Protocol: 'HTTP',
      Port: options.port ?? 80,
      VpcId: vpcs.Vpcs![0]!.VpcId!,
      TargetType: 'instance',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: options.intervalSeconds ?? 10,
      HealthyThresholdCount: options.healthyThreshold ?? 2
    })
  )
  const arn = out.TargetGroups![0]!.TargetGroupArn!
  await c.elbv2.send(
    new ModifyTargetGroupAttributesCommand({
      TargetGroupArn: arn,
      Attributes: [
        {
          Key: 'deregistration_delay.timeout_seconds',
          Value: String(options.deregistrationDelaySeconds ?? 300)
        }
      ]
    })
  )
  await c.elbv2.send(
    new AddTagsCommand({
      ResourceArns: [arn],
      Tags: [{ Key: 'emulator:time-scale', Value: String(options.timeScale ?? 0.01) }]
    })
  )
  return { arn, name: options.name }
}

/** Every target of a target group with its state, as DescribeTargetHealth lists them. */
export async function targetStates(
  c: TestClients,
  arn: string
): Promise<Record<string, { state: string; port: number | undefined; reason?: string }>> {
  const out = await c.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn }))
  const states: Record<string, { state: string; port: number | undefined; reason?: string }> = {}
  for (const d of out.TargetHealthDescriptions ?? []) {
    states[d.Target!.Id!] = {
      state: d.TargetHealth!.State!,
      port: d.Target!.Port,
      ...(d.TargetHealth?.Reason ? { reason: d.TargetHealth.Reason } : {})
    }
  }
  return states
}

export interface TargetGroupWorld extends CodeVolumeWorld {
  targetGroups: TargetGroupRef[]
}

/**
 * codeVolumeWorld behind target groups attached to its Auto Scaling group, returned once every
 * member is healthy in each (they start `initial`, as on AWS).
 */
export async function behindTargetGroups(
  c: TestClients,
  options: { size?: number; name?: string; targetGroups: TargetGroupOptions[] }
): Promise<TargetGroupWorld> {
  const targetGroups: TargetGroupRef[] = []
  for (const tg of options.targetGroups) targetGroups.push(await createTargetGroup(c, tg))
  const world = await codeVolumeWorld(c, {
    ...(options.size !== undefined ? { size: options.size } : {}),
    ...(options.name ? { name: options.name } : {}),
    targetGroupArns: targetGroups.map((t) => t.arn)
  })
  for (const tg of targetGroups) {
    for (let i = 0; ; i++) {
      const states = Object.values(await targetStates(c, tg.arn))
      if (states.length === world.instanceIds.length && states.every((s) => s.state === 'healthy'))
        break
      if (i > 200) throw new Error(`Target group ${tg.name} did not become healthy`)
      await sleep(50)
    }
  }
  return { ...world, targetGroups }
}

/**
 * `size` hosts behind one target group, `web`, that drains for `deregistrationDelaySeconds`
 * (scaled by 0.01: 50 s drains in half a second; 10 s x 2 checks, 0.2 s initial).
 */
export function behindWebTargetGroup(
  c: TestClients,
  size: number,
  deregistrationDelaySeconds = 50
): Promise<TargetGroupWorld> {
  return behindTargetGroups(c, {
    size,
    targetGroups: [{ name: 'web', deregistrationDelaySeconds }]
  })
}

/** What watchTargetGroup saw: the fewest healthy targets at any look, and how many looks. */
export interface HealthWatch {
  fewestHealthy: number
  looks: number
  /** Each change of the healthy count, with the time it was seen (ms since the watch began). */
  changes: Array<{ atMs: number; healthy: number }>
}

/**
 * Looks at a target group every `everyMs` until stopped, counting its healthy targets (the
 * capacity a deploy must keep above min-healthy). The first look is made before it returns.
 */
export async function watchTargetGroup(
  c: TestClients,
  arn: string,
  everyMs = 50
): Promise<{ stop(): Promise<HealthWatch> }> {
  const started = Date.now()
  const seen: HealthWatch = { fewestHealthy: Infinity, looks: 0, changes: [] }
  const look = async () => {
    const states = Object.values(await targetStates(c, arn))
    const healthy = states.filter((s) => s.state === 'healthy').length
    seen.looks++
    seen.fewestHealthy = Math.min(seen.fewestHealthy, healthy)
    if (seen.changes.at(-1)?.healthy !== healthy)
      seen.changes.push({ atMs: Date.now() - started, healthy })
  }
  await look()
  let running = true
  const done = (async () => {
    while (running) {
      await sleep(everyMs)
      await look()
    }
  })()
  return {
    stop: async () => {
      running = false
      await done
      return seen
    }
  }
}
