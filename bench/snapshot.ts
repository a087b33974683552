/**
 * snapshot: API calls and lag between the snapshot reaching `completed` and the action
 * noticing it and publishing the launch template version, for snapshots that complete after
 * 5 s and 60 s. A small fake EC2 answers on the real clock (the poller's real sleeps, jitter
 * and all); every run of one size goes in parallel, so the bench takes about a minute.
 *
 * Target: publish lag at most 2 s median.
 */
import { S3Client } from '@aws-sdk/client-s3'
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  type AutoScalingGroup
} from '@aws-sdk/client-auto-scaling'
import { EC2Client } from '@aws-sdk/client-ec2'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { SSMClient } from '@aws-sdk/client-ssm'
import { makeRuntime } from '../src/runtime.js'
import { runPublishFlow } from '../src/flows/publish.js'
import { RUN } from '../support/fixtures.js'

const COMPLETION_MS = [5_000, 60_000]
const RUNS = Number(process.env['BENCH_RUNS'] ?? 5)
const LT = 'lt-0123456789abcdef0'

interface Sample {
  calls: Record<string, number>
  /** completed -> the first DescribeSnapshots that said so. */
  noticeLagMs: number
  /** completed -> CreateLaunchTemplateVersion sent. */
  publishLagMs: number
}

/** EC2 as the action sees it: a snapshot pending until `completionMs` after CreateSnapshot. */
function fakeEc2(
  completionMs: number,
  calls: Record<string, number>,
  marks: Record<string, number>
) {
  const ec2 = new EC2Client({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' }
  })
  let createdAt = 0
  const answers: Record<string, (input: Record<string, unknown>) => unknown> = {
    DescribeVolumes: () => ({
      Volumes: [
        {
          VolumeId: 'vol-0123456789abcdef0',
          Size: 8,
          VolumeType: 'gp3',
          AvailabilityZone: 'us-east-1a',
          Attachments: [
            { InstanceId: 'i-0123456789abcdef0', Device: '/dev/sdf', State: 'attached' }
          ]
        }
      ]
    }),
    CreateSnapshot: () => {
      createdAt = Date.now()
      return { SnapshotId: 'snap-0bench', State: 'pending' }
    },
    DescribeSnapshots: (input) => {
      if (!input['SnapshotIds']) return { Snapshots: [] } // retention's listing
      const elapsed = Date.now() - createdAt
      if (elapsed < completionMs) {
        const progress = `${Math.floor((elapsed / completionMs) * 100)}%`
        return { Snapshots: [{ SnapshotId: 'snap-0bench', State: 'pending', Progress: progress }] }
      }
      marks['noticed'] ??= Date.now()
      return { Snapshots: [{ SnapshotId: 'snap-0bench', State: 'completed', Progress: '100%' }] }
    },
    DescribeLaunchTemplates: () => ({
      LaunchTemplates: [
        {
          LaunchTemplateId: LT,
          LaunchTemplateName: 'app-lt',
          DefaultVersionNumber: 1,
          LatestVersionNumber: 1
        }
      ]
    }),
    DescribeLaunchTemplateVersions: () => ({
      LaunchTemplateVersions: [
        {
          LaunchTemplateId: LT,
          VersionNumber: 1,
          LaunchTemplateData: {
            BlockDeviceMappings: [
              { DeviceName: '/dev/sdf', Ebs: { SnapshotId: 'snap-0old', VolumeSize: 8 } }
            ]
          }
        }
      ]
    }),
    CreateLaunchTemplateVersion: () => {
      marks['published'] = Date.now()
      return { LaunchTemplateVersion: { LaunchTemplateId: LT, VersionNumber: 2 } }
    },
    ModifyLaunchTemplate: () => ({}),
    DescribeImages: () => ({ Images: [] })
  }
  ec2.send = (async (command: {
    constructor: { name: string }
    input: Record<string, unknown>
  }) => {
    const api = command.constructor.name.replace(/Command$/, '')
    calls[api] = (calls[api] ?? 0) + 1
    const answer = answers[api]
    if (!answer) throw new Error(`bench: unexpected EC2 call ${api}`)
    return answer(command.input)
  }) as unknown as EC2Client['send']
  return { ec2, completedAt: () => createdAt + completionMs }
}

function fakeAutoScaling(calls: Record<string, number>): AutoScalingClient {
  const autoscaling = new AutoScalingClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' }
  })
  autoscaling.send = (async (command: unknown) => {
    if (!(command instanceof DescribeAutoScalingGroupsCommand))
      throw new Error('bench: unexpected Auto Scaling call')
    calls['DescribeAutoScalingGroups'] = (calls['DescribeAutoScalingGroups'] ?? 0) + 1
    const group = {
      AutoScalingGroupName: 'app-asg',
      LaunchTemplate: { LaunchTemplateId: LT, Version: '$Default' },
      DesiredCapacity: 3,
      Instances: []
    }
    return { AutoScalingGroups: [group as unknown as AutoScalingGroup] }
  }) as unknown as AutoScalingClient['send']
  return autoscaling
}

async function once(completionMs: number): Promise<Sample> {
  const calls: Record<string, number> = {}
  const marks: Record<string, number> = {}
  const { ec2, completedAt } = fakeEc2(completionMs, calls, marks)
  const result = await runPublishFlow(
    {
      region: 'us-east-1',
      ec2,
      autoscaling: fakeAutoScaling(calls),
      ssm: new SSMClient({ region: 'us-east-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
      s3: new S3Client({ region: 'us-east-1' }),
      cloudwatch: new CloudWatchClient({ region: 'us-east-1' })
    },
    {
      source: { kind: 'instance', instanceId: 'i-0123456789abcdef0', device: '/dev/sdf' },
      snapshot: {
        consistency: { mode: 'none' },
        name: 'bench',
        run: RUN
      },
      wait: true,
      timeoutMs: 600_000,
      publish: {
        targets: [{ launchTemplate: 'app-lt', sourceVersion: '$Default' }],
        device: '/dev/sdf',
        setDefault: true
      },
      retention: { keepSnapshots: 5, keepVersions: 0 },
      dryRun: false
    },
    makeRuntime()
  )
  if (result.failure || !marks['published'])
    throw new Error(`bench snapshot failed: ${result.failure?.message}`)
  return {
    calls,
    noticeLagMs: marks['noticed']! - completedAt(),
    publishLagMs: marks['published'] - completedAt()
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!
const total = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0)

export async function run(): Promise<void> {
  console.log(`\n## snapshot: ${RUNS} parallel run(s) per completion time, real clock, fake EC2\n`)
  const rows: string[][] = []
  for (const completionMs of COMPLETION_MS) {
    const samples = await Promise.all(Array.from({ length: RUNS }, () => once(completionMs)))
    const publishLags = samples.map((s) => s.publishLagMs)
    rows.push([
      `${completionMs / 1000} s`,
      String(median(samples.map((s) => s.calls['DescribeSnapshots']! - 1))),
      String(median(samples.map((s) => total(s.calls)))),
      String(Math.round(median(samples.map((s) => s.noticeLagMs)))),
      String(Math.round(median(publishLags))),
      String(Math.round(Math.max(...publishLags))),
      median(publishLags) <= 2_000 ? 'yes' : 'NO'
    ])
  }
  printTable(
    [
      'snapshot completes after',
      'DescribeSnapshots (wait)',
      'total calls (median)',
      'notice lag median ms',
      'publish lag median ms',
      'publish lag max ms',
      'target ≤ 2 s met'
    ],
    rows
  )
}

function printTable(header: string[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |`)
  for (const r of rows) console.log(`| ${r.join(' | ')} |`)
}
