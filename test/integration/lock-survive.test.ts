/**
 * A deploy that survives its runner: the record of what a run holds lives in its deploy lock,
 * renewed by a heartbeat. A runner killed mid-rollout (its heartbeat stops, nothing is settled)
 * leaves hosts out of service, a command running and a snapshot never published; the next
 * deploy recognises the dead run's lock within seconds here (minutes on AWS), finishes its
 * cleanup, then deploys. And a lock the run cannot free fails the run, for the post step.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateSnapshotCommand,
  CreateTagsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand
} from '@aws-sdk/client-ec2'
import { DeregisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  DeleteParameterCommand,
  GetParameterCommand,
  ListCommandsCommand,
  SendCommandCommand,
  type SSMClient
} from '@aws-sdk/client-ssm'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { mapStateProvider } from '../../src/held/journal.js'
import { LockKeeper } from '../../src/held/lock-keeper.js'
import { deploySettlers } from '../../src/held/publish-settlers.js'
import { replayJournal } from '../../src/held/replay.js'
import {
  acquireDeployLock,
  LockHeldError,
  lockName,
  parseHolder
} from '../../src/lock/deploy-lock.js'
import { makeRuntime } from '../../src/runtime.js'
import {
  behindWebTargetGroup,
  sleep,
  tag,
  targetStates,
  type TargetGroupWorld,
  type TestClients
} from '../../support/emulator/world.js'
import { deployOptions, RUN } from '../../support/fixtures.js'
import { deployBehindTargetGroups } from '../helpers/deploy-options.js'
import { useEmulator } from '../helpers/emulator.js'
import { intercept } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()
const HEARTBEAT = { renewMs: 200, staleMs: 1500 }

/** Run `runId`'s deploy, min-healthy 2, its lock renewed fast enough to go stale in seconds. */
function options(w: TargetGroupWorld, runId: string, extra: Partial<DeployOptions> = {}) {
  const base = deployOptions()
  return deployBehindTargetGroups(
    w,
    { kind: 'count', value: 2 },
    {
      snapshot: { ...base.snapshot, run: { ...RUN, runId } },
      lock: { timeoutMs: 20_000, holdMs: 3_600_000, heartbeat: HEARTBEAT },
      ...extra
    }
  )
}

async function snapshotTags(c: TestClients, id: string): Promise<Record<string, string>> {
  const out = await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))
  return Object.fromEntries((out.Snapshots?.[0]?.Tags ?? []).map((t) => [t.Key!, t.Value!]))
}

async function lockValue(ssm: SSMClient, templateId: string) {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: lockName(templateId) }))
    return parseHolder(out.Parameter?.Value) ?? null
  } catch {
    return undefined
  }
}

/**
 * What a deploy killed mid-rollout leaves (SIGKILL: no finally, no post step): its lock, its
 * record written before each change, two hosts deregistered, a command running, a snapshot
 * pending; then its heartbeat stops.
 */
async function deadRun(c: TestClients, w: TargetGroupWorld) {
  const arn = w.targetGroups[0]!.arn
  const [h0, h1, h2] = w.instanceIds as [string, string, string]
  const runtime = makeRuntime({ log: new RecordingLog() })
  const lock = await acquireDeployLock(
    c.ssm,
    {
      templateId: w.launchTemplateId,
      run: { ...RUN, runId: '100' },
      timeoutMs: 0,
      holdMs: 7_200_000
    },
    runtime
  )
  const keeper = new LockKeeper(c.ssm, lock, runtime, HEARTBEAT.renewMs)
  keeper.start()
  await tag(c.ec2, [h2], { 'emulator:ssm-seconds': '600' })
  const sent = await c.ssm.send(
    new SendCommandCommand({
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [h2],
      Parameters: { commands: ['./deploy'] }
    })
  )
  const commandId = sent.Command!.CommandId!
  // Only that command runs long; the next deploy's end at once.
  await sleep(300)
  await tag(c.ec2, [h2], { 'emulator:ssm-seconds': '0' })
  const volumes = await c.ec2.send(
    new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [h0] }] })
  )
  const snapshotId = (
    await c.ec2.send(new CreateSnapshotCommand({ VolumeId: volumes.Volumes![0]!.VolumeId! }))
  ).SnapshotId!
  await c.ec2.send(
    new CreateTagsCommand({
      Resources: [snapshotId],
      Tags: [{ Key: 'ebs-autoscale:status', Value: 'pending' }]
    })
  )
  keeper.record([
    { kind: 'command', commandId },
    { kind: 'snapshot', snapshotId },
    { kind: 'out-of-service', targetGroupArn: arn, instanceId: h0 },
    { kind: 'out-of-service', targetGroupArn: arn, instanceId: h1 }
  ])
  await keeper.flush()
  await c.elbv2.send(
    new DeregisterTargetsCommand({ TargetGroupArn: arn, Targets: [{ Id: h0 }, { Id: h1 }] })
  )
  await sleep(500) // a few heartbeats
  await keeper.stop() // the runner is gone
  return { lock, commandId, snapshotId, out: [h0, h1] }
}

describe('a deploy that survives its runner', () => {
  it('the next deploy finishes a dead run’s cleanup from its record, then deploys', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 4, 20)
    const arn = w.targetGroups[0]!.arn
    const dead = await deadRun(c, w)
    const recorded = await lockValue(c.ssm, w.launchTemplateId)
    expect(recorded?.record).toEqual({
      c: [dead.commandId],
      s: [dead.snapshotId],
      o: { [arn]: dead.out }
    })

    const log = new RecordingLog()
    const state = new Map<string, string>()
    const result = await runDeploy(
      c,
      options(w, '200'),
      makeRuntime({ log }),
      mapStateProvider(state)
    )

    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.locks[0]).toMatch(
      new RegExp(
        `^Took over the deploy lock ${lockName(w.launchTemplateId)} from https://github.com/acme/shop/actions/runs/100: not renewed for \\d`
      )
    )
    expect(result.locks).toContain(
      `Cleaning up after https://github.com/acme/shop/actions/runs/100: Cancelled command ${dead.commandId} (it was InProgress).`
    )
    // End state: every host registered and healthy, the dead run's command cancelled, its
    // snapshot tagged failed, this deploy's published, and no lock left.
    const after = await targetStates(c, arn)
    expect(Object.keys(after).sort()).toEqual([...w.instanceIds].sort())
    for (const s of Object.values(after)) expect(s.state).toBe('healthy')
    const listed = await c.ssm.send(new ListCommandsCommand({ CommandId: dead.commandId }))
    expect(listed.Commands?.[0]?.Status).toBe('Cancelled')
    expect(await snapshotTags(c, dead.snapshotId)).toMatchObject({
      'ebs-autoscale:status': 'failed',
      'ebs-autoscale:failure': expect.stringContaining(
        'the deploy that made it (https://github.com/acme/shop/actions/runs/100) died (not renewed for'
      )
    })
    expect(await snapshotTags(c, result.publish!.snapshot.snapshotId)).toMatchObject({
      'ebs-autoscale:status': 'published'
    })
    expect(await lockValue(c.ssm, w.launchTemplateId)).toBeUndefined()
    // The runner's state kept only the lock (the reference), never the hosts: now nothing.
    expect(state.get('journal')).toBe('[]')
  }, 60_000)

  it('renews a live run’s lock, so it is never taken over; once its heartbeat stops, it is', async () => {
    const c = emulator.clients
    const templateId = 'lt-0123456789abcdef0'
    const runtime = makeRuntime({ log: new RecordingLog() })
    const opts = (runId: string, timeoutMs: number) => ({
      templateId,
      run: { ...RUN, runId },
      timeoutMs,
      holdMs: 7_200_000,
      staleMs: 600,
      takeOver: async () => ['nothing recorded']
    })
    const first = await acquireDeployLock(c.ssm, opts('100', 0), runtime)
    const keeper = new LockKeeper(c.ssm, first, runtime, 100)
    keeper.start()
    await sleep(1000)
    const renewed = await lockValue(c.ssm, templateId)
    expect(Date.parse(renewed!.renewedAt!)).toBeGreaterThan(Date.parse(first.holder.renewedAt!))
    await expect(acquireDeployLock(c.ssm, opts('200', 0), runtime)).rejects.toThrow(LockHeldError)

    await keeper.stop()
    const second = await acquireDeployLock(c.ssm, opts('200', 5000), runtime)
    expect(second.lines).toEqual([
      expect.stringMatching(
        /^Took over the deploy lock .* from https:\/\/github.com\/acme\/shop\/actions\/runs\/100: not renewed for/
      ),
      'nothing recorded'
    ])
    expect((await lockValue(c.ssm, templateId))?.token).toBe(second.token)
  }, 30_000)

  it('a lock it cannot free fails the run; the post step settles its record and frees it', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 3, 20)
    // DeleteParameter fails after the SDK's retries, in the main step only.
    const ssm = intercept(c.ssm, async (command, send) => {
      if (command instanceof DeleteParameterCommand)
        throw Object.assign(new Error('Rate exceeded'), { name: 'InternalServerError' })
      return send(command)
    })
    const state = new Map<string, string>()
    const result = await runDeploy(
      { ...c, ssm },
      options(w, '300'),
      makeRuntime({ log: new RecordingLog() }),
      mapStateProvider(state)
    )
    expect(result.ok).toBe(true)
    const name = lockName(w.launchTemplateId)
    expect(result.settled).toEqual([
      expect.objectContaining({
        ok: false,
        outcome: expect.stringContaining(`Could not free the deploy lock ${name}`)
      })
    ])
    expect(await lockValue(c.ssm, w.launchTemplateId)).toMatchObject({ runId: '300' })
    // The post step (a new process): the runner's state names only the lock.
    const post = mapStateProvider(new Map([['journal', state.get('journal')!]]))
    const settled = await replayJournal(post, () =>
      deploySettlers(c, { reason: 'post', snapshot: 'tag' })
    )
    expect(settled?.map((s) => s.outcome)).toEqual([`Released the deploy lock ${name}.`])
    expect(await lockValue(c.ssm, w.launchTemplateId)).toBeUndefined()
  }, 60_000)
})
