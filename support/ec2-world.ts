/**
 * A scripted EC2 + Auto Scaling world for unit tests and benchmarks of the deploy pipeline:
 * instances launched from a template version, their code volumes, snapshots that stay
 * `pending` for a set time (then complete, or end in error), launch template versions (SourceVersion and ClientToken honoured)
 * and one Auto Scaling group. It records when each call came, so tests can check the order
 * of the phases. Wire it with aws-sdk-client-mock: `world.mock(ec2Stub, asgStub)`.
 */
import type { AwsStub } from 'aws-sdk-client-mock'
import * as ec2 from '@aws-sdk/client-ec2'
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling'

interface SimInstance {
  id: string
  launchTime: number
  version: number
  state: string
  volumeId: string
  tags: Record<string, string>
}

interface SimSnapshot {
  id: string
  volumeId: string
  createdAt: number
  tags: Record<string, string>
}

interface Version {
  number: number
  data: ec2.RequestLaunchTemplateData
}

class ServiceError extends Error {
  readonly $metadata = { httpStatusCode: 400 }
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}

const EC2_APIS = [
  'DescribeInstances',
  'DescribeVolumes',
  'CreateSnapshot',
  'DescribeSnapshots',
  'CreateTags',
  'DeleteSnapshot',
  'DescribeImages',
  'DescribeLaunchTemplates',
  'DescribeLaunchTemplateVersions',
  'CreateLaunchTemplateVersion',
  'ModifyLaunchTemplate'
]

export const TEMPLATE_ID = 'lt-0123456789abcdef0'
export const GROUP = 'app-asg'

export class SimulatedEc2 {
  readonly calls: Record<string, number> = {}
  /** Every call with its time, in order. */
  readonly events: Array<{ api: string; at: number; input: Record<string, unknown> }> = []
  readonly instances = new Map<string, SimInstance>()
  readonly snapshots = new Map<string, SimSnapshot>()
  readonly versions: Version[] = []
  defaultVersion = 1
  /** The version the group launches: $Default, $Latest or a number (pinned). */
  groupVersion = '$Default'
  private tokens = new Map<string, number>()
  private counter = 0

  constructor(
    readonly clock: { now(): number },
    readonly options: {
      snapshotMs: number
      tags?: Record<string, string>
      /** How a snapshot ends once snapshotMs has passed (AWS's StateMessage for `error`). */
      snapshotEnds?: 'completed' | 'error'
    } = { snapshotMs: 0 }
  ) {
    this.versions.push({
      number: 1,
      data: {
        ImageId: 'ami-0123456789abcdef0',
        InstanceType: 't3.micro',
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/sdf',
            Ebs: { SnapshotId: 'snap-00000000000000000', VolumeSize: 8, VolumeType: 'gp3' }
          }
        ]
      }
    })
  }

  /** An instance of the group, launched from `version` of the template. */
  launch(id: string, options: { version?: number; at?: number; state?: string } = {}): this {
    const volumeId = `vol-${id.slice(2)}`
    this.instances.set(id, {
      id,
      launchTime: options.at ?? this.clock.now(),
      version: options.version ?? this.defaultVersion,
      state: options.state ?? 'running',
      volumeId,
      tags: { ...(this.options.tags ?? { Role: 'app' }) }
    })
    return this
  }

  /** When the first call to `api` came (undefined if none). */
  firstCall(api: string): number | undefined {
    return this.events.find((e) => e.api === api)?.at
  }

  handle(api: string, input: Record<string, unknown>): unknown {
    const now = this.clock.now()
    this.calls[api] = (this.calls[api] ?? 0) + 1
    this.events.push({ api, at: now, input })
    switch (api) {
      case 'DescribeInstances':
        return this.describeInstances(input)
      case 'DescribeAutoScalingGroups':
        return this.describeGroups()
      case 'DescribeVolumes':
        return this.describeVolumes(input)
      case 'CreateSnapshot':
        return this.createSnapshot(input, now)
      case 'DescribeSnapshots':
        return this.describeSnapshots(input, now)
      case 'CreateTags':
        for (const id of input['Resources'] as string[]) {
          const s = this.snapshots.get(id)
          if (s) for (const t of input['Tags'] as ec2.Tag[]) s.tags[t.Key!] = t.Value ?? ''
        }
        return {}
      case 'DeleteSnapshot':
        this.snapshots.delete(String(input['SnapshotId']))
        return {}
      case 'DescribeImages':
        return { Images: [] }
      case 'DescribeLaunchTemplates':
        return {
          LaunchTemplates: [
            {
              LaunchTemplateId: TEMPLATE_ID,
              LaunchTemplateName: 'app-lt',
              DefaultVersionNumber: this.defaultVersion,
              LatestVersionNumber: this.versions.length
            }
          ]
        }
      case 'DescribeLaunchTemplateVersions':
        return this.describeVersions(input)
      case 'CreateLaunchTemplateVersion':
        return this.createVersion(input)
      case 'ModifyLaunchTemplate':
        this.defaultVersion = Number(input['DefaultVersion'])
        return {
          LaunchTemplate: {
            LaunchTemplateId: TEMPLATE_ID,
            DefaultVersionNumber: this.defaultVersion
          }
        }
      default:
        throw new Error(`SimulatedEc2 does not answer ${api}`)
    }
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  mock(ec2Stub: AwsStub<any, any, any>, asgStub: AwsStub<any, any, any>): this {
    for (const api of EC2_APIS) {
      const command = (ec2 as unknown as Record<string, unknown>)[`${api}Command`]
      ec2Stub
        .on(command as Parameters<typeof ec2Stub.on>[0])
        .callsFake((input: Record<string, unknown>) => this.handle(api, input))
    }
    asgStub
      .on(DescribeAutoScalingGroupsCommand)
      .callsFake((input: Record<string, unknown>) =>
        this.handle('DescribeAutoScalingGroups', input)
      )
    return this
  }

  private describeInstances(input: Record<string, unknown>): unknown {
    const filters = (input['Filters'] as ec2.Filter[] | undefined) ?? []
    const match = (i: SimInstance): boolean =>
      filters.every((f) => {
        const values = f.Values ?? []
        if (f.Name === 'instance-state-name') return values.includes(i.state)
        if (f.Name === 'instance-id') return values.includes(i.id)
        if (f.Name?.startsWith('tag:')) return values.includes(i.tags[f.Name.slice(4)] ?? '\0')
        return true
      })
    const instances = [...this.instances.values()].filter(match).map((i) => ({
      InstanceId: i.id,
      State: { Name: i.state as ec2.InstanceStateName },
      LaunchTime: new Date(i.launchTime),
      PrivateIpAddress: `10.0.0.${this.indexOf(i.id)}`,
      Placement: { AvailabilityZone: 'us-east-1a' },
      Tags: Object.entries({
        ...i.tags,
        'aws:ec2launchtemplate:id': TEMPLATE_ID,
        'aws:ec2launchtemplate:version': String(i.version),
        'aws:autoscaling:groupName': GROUP
      }).map(([Key, Value]) => ({ Key, Value }))
    }))
    return { Reservations: instances.length ? [{ Instances: instances }] : [] }
  }

  private indexOf(id: string): number {
    return [...this.instances.keys()].indexOf(id) + 1
  }

  private describeGroups(): unknown {
    return {
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          LaunchTemplate: {
            LaunchTemplateId: TEMPLATE_ID,
            LaunchTemplateName: 'app-lt',
            Version: this.groupVersion
          },
          DesiredCapacity: this.instances.size,
          MinSize: 0,
          MaxSize: 100,
          Instances: [...this.instances.values()].map((i) => ({
            InstanceId: i.id,
            LifecycleState: i.state === 'pending' ? 'Pending' : 'InService'
          }))
        }
      ]
    }
  }

  private describeVolumes(input: Record<string, unknown>): unknown {
    const filters = (input['Filters'] as ec2.Filter[] | undefined) ?? []
    const byInstance = filters.find((f) => f.Name === 'attachment.instance-id')?.Values ?? []
    const ids = (input['VolumeIds'] as string[] | undefined) ?? []
    // A terminated instance's volumes are detached (and deleted on termination), as on AWS.
    const volumes = [...this.instances.values()]
      .filter((i) => i.state !== 'terminated' && i.state !== 'shutting-down')
      .filter((i) => byInstance.includes(i.id) || ids.includes(i.volumeId))
      .map((i) => ({
        VolumeId: i.volumeId,
        Size: 8,
        VolumeType: 'gp3' as const,
        AvailabilityZone: 'us-east-1a',
        Encrypted: false,
        Attachments: [
          { InstanceId: i.id, Device: '/dev/sdf', State: 'attached' as const, VolumeId: i.volumeId }
        ]
      }))
    return { Volumes: volumes }
  }

  private createSnapshot(input: Record<string, unknown>, now: number): unknown {
    if (input['DryRun'])
      throw new ServiceError(
        'DryRunOperation',
        'Request would have succeeded, but DryRun flag is set.'
      )
    const id = `snap-${String(++this.counter).padStart(17, '0')}`
    const tags: Record<string, string> = {}
    for (const spec of (input['TagSpecifications'] as ec2.TagSpecification[] | undefined) ?? []) {
      for (const t of spec.Tags ?? []) tags[t.Key!] = t.Value ?? ''
    }
    this.snapshots.set(id, { id, volumeId: String(input['VolumeId']), createdAt: now, tags })
    return {
      SnapshotId: id,
      State: 'pending',
      StartTime: new Date(now),
      VolumeId: input['VolumeId']
    }
  }

  private snapshotState(s: SimSnapshot, now: number) {
    const done = now - s.createdAt >= this.options.snapshotMs
    const progress = done ? 100 : Math.floor(((now - s.createdAt) / this.options.snapshotMs) * 100)
    return {
      SnapshotId: s.id,
      VolumeId: s.volumeId,
      State: (done ? (this.options.snapshotEnds ?? 'completed') : 'pending') as ec2.SnapshotState,
      Progress: `${progress}%`,
      ...(done && this.options.snapshotEnds === 'error'
        ? { StateMessage: 'The volume was deleted while the snapshot was in progress' }
        : {}),
      StartTime: new Date(s.createdAt),
      OwnerId: '123456789012',
      VolumeSize: 8,
      Tags: Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value }))
    }
  }

  private describeSnapshots(input: Record<string, unknown>, now: number): unknown {
    const ids = input['SnapshotIds'] as string[] | undefined
    const filters = (input['Filters'] as ec2.Filter[] | undefined) ?? []
    const all = [...this.snapshots.values()].filter(
      (s) =>
        (!ids || ids.includes(s.id)) &&
        filters.every(
          (f) =>
            !f.Name?.startsWith('tag:') ||
            (f.Values ?? []).includes(s.tags[f.Name.slice(4)] ?? '\0')
        )
    )
    return { Snapshots: all.map((s) => this.snapshotState(s, now)) }
  }

  private version(ref: string): Version {
    const n =
      ref === '$Default'
        ? this.defaultVersion
        : ref === '$Latest'
          ? this.versions.length
          : Number(ref)
    const v = this.versions.find((x) => x.number === n)
    if (!v)
      throw new ServiceError('InvalidLaunchTemplateId.VersionNotFound', `version ${ref} not found`)
    return v
  }

  private describeVersions(input: Record<string, unknown>): unknown {
    const refs = input['Versions'] as string[] | undefined
    const versions = refs ? refs.map((r) => this.version(r)) : this.versions
    return {
      LaunchTemplateVersions: versions.map((v) => ({
        LaunchTemplateId: TEMPLATE_ID,
        LaunchTemplateName: 'app-lt',
        VersionNumber: v.number,
        DefaultVersion: v.number === this.defaultVersion,
        LaunchTemplateData: v.data
      }))
    }
  }

  private createVersion(input: Record<string, unknown>): unknown {
    const token = input['ClientToken'] as string | undefined
    const existing = token ? this.tokens.get(token) : undefined
    let number = existing
    if (number === undefined) {
      const source = input['SourceVersion'] ? this.version(String(input['SourceVersion'])).data : {}
      number = this.versions.length + 1
      this.versions.push({
        number,
        data: { ...structuredClone(source), ...(input['LaunchTemplateData'] as object) }
      })
      if (token) this.tokens.set(token, number)
    }
    return {
      LaunchTemplateVersion: {
        LaunchTemplateId: TEMPLATE_ID,
        LaunchTemplateName: 'app-lt',
        VersionNumber: number,
        LaunchTemplateData: this.version(String(number)).data
      }
    }
  }
}
