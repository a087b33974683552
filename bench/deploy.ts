/**
 * deploy: the whole pipeline on a simulated fleet whose commands take C seconds and whose
 * snapshot takes S seconds to complete, on the real clock, with `consistency: sync` (the
 * default) and SSM delivering each command DELIVERY_MS after SendCommand. The deploy's wall
 * time is set against the lower bound, canary + max(remaining waves, S) plus one delivery per
 * SSM hop the deploy cannot avoid (the canary's, the fleet's): the primary's commands, then its
 * snapshot completing, reachable only if the snapshot overlaps the fleet rollout and nothing
 * else (a separate sync command, a slow poll) sits between; and against the sequential way
 * three separate steps take: rollout (canary + waves), then snapshot, then publish.
 *
 * Target: wall time within 1.10 of the lower bound, with short (4 s) commands as with long.
 */
import { S3Client } from '@aws-sdk/client-s3'
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { EC2Client } from '@aws-sdk/client-ec2'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { realClock } from '../src/clock.js'
import { runDeploy } from '../src/flows/deploy.js'
import { SimulatedEc2 } from '../support/ec2-world.js'
import { deployOptions } from '../support/fixtures.js'
import { SimulatedFleet } from '../support/ssm-fleet.js'
import { makeRuntime } from '../src/runtime.js'
import { printTable } from './lib.js'

const HOSTS = 20
/** How long the simulated SSM takes to start a command on a host after SendCommand. */
const DELIVERY_MS = 300
/** A flush on the host (a separate `sync` command, when one is sent) takes this long. */
const SYNC_MS = 200
/**
 * [C, S] in seconds: short commands with a snapshot longer and shorter than the fleet wave
 * (every hop's delay weighs most there), then long ones: a snapshot shorter than, as long as,
 * and longer than the fleet wave. BENCH_DEPLOY_SCENARIOS="5:3,5:5" runs others.
 */
const SCENARIOS: Array<[number, number]> = (
  process.env['BENCH_DEPLOY_SCENARIOS'] ?? '4:6,4:3,15:8,15:15,15:40'
)
  .split(',')
  .map((pair) => pair.split(':').map(Number) as [number, number])

async function once(commandMs: number, snapshotMs: number): Promise<number> {
  const ec2Mock = mockClient(EC2Client)
  const asgMock = mockClient(AutoScalingClient)
  const ssmMock = mockClient(SSMClient)
  try {
    const ids = SimulatedFleet.ids(HOSTS)
    const world = new SimulatedEc2(realClock, { snapshotMs })
    ids.forEach((id, i) => world.launch(id, { at: Date.now() - 86_400_000 + i * 1000 }))
    world.mock(ec2Mock, asgMock)
    const host = { durationMs: commandMs, scripts: { 'echo synced': { durationMs: SYNC_MS } } }
    new SimulatedFleet(realClock, Object.fromEntries(ids.map((id) => [id, host])), {
      deliveryDelayMs: DELIVERY_MS
    }).mock(ssmMock)
    const defaults = deployOptions()
    const started = Date.now()
    const result = await runDeploy(
      {
        region: 'us-east-1',
        ec2: new EC2Client({ region: 'us-east-1' }),
        ssm: new SSMClient({ region: 'us-east-1' }),
        autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
        elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
        s3: new S3Client({ region: 'us-east-1' }),
        cloudwatch: new CloudWatchClient({ region: 'us-east-1' })
      },
      deployOptions({
        snapshot: { ...defaults.snapshot, consistency: { mode: 'sync', mountPoint: '/srv/app' } },
        catchUp: { maxRounds: 3, readyTimeoutMs: 60_000 }
      }),
      makeRuntime()
    )
    if (!result.ok) throw new Error(`bench deploy failed: ${result.failure?.message}`)
    if (process.env['BENCH_VERBOSE'])
      console.log(
        result.phases.timings
          .map((t) => `${t.name} +${t.startedAt - started} ${t.endedAt! - t.startedAt}ms`)
          .join(', ')
      )
    return Date.now() - started
  } finally {
    ec2Mock.restore()
    asgMock.restore()
    ssmMock.restore()
  }
}

export async function run(): Promise<void> {
  console.log(
    `\n## deploy: ${HOSTS} hosts, canary 1 then 100%; commands take C s, the snapshot S s; consistency sync; delivery ${DELIVERY_MS} ms\n`
  )
  const rows: string[][] = []
  for (const [c, s] of SCENARIOS) {
    const wall = await once(c * 1000, s * 1000)
    const lower = (c + Math.max(c, s)) * 1000 + 2 * DELIVERY_MS
    const sequential = (c + c + s) * 1000
    rows.push([
      `${c}`,
      `${s}`,
      (wall / 1000).toFixed(2),
      (lower / 1000).toFixed(1),
      (wall / lower).toFixed(3),
      (sequential / 1000).toFixed(1),
      (wall / sequential).toFixed(3)
    ])
  }
  printTable(
    [
      'C s',
      'S s',
      'deploy wall s',
      'lower bound s',
      'wall / lower bound',
      'sequential s',
      'wall / sequential'
    ],
    rows
  )
}
