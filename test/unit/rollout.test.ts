import { beforeEach, describe, expect, it } from '@jest/globals'
import { SendCommandCommand, CancelCommandCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { runRollout } from '../../src/rollout/run.js'
import { planWaves } from '../../src/rollout/plan.js'
import { runOnHost } from '../../src/ssm/run-on-host.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { deployScriptOn, statuses } from '../helpers/rollout.js'
import { SimulatedFleet } from '../../support/ssm-fleet.js'
import { VirtualClock } from '../../support/virtual-clock.js'
import { makeRuntime } from '../../src/runtime.js'

const ssmMock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'us-east-1' })

describe('rollout over a scripted SSM fleet', () => {
  let clock: VirtualClock
  let log: RecordingLog
  beforeEach(() => {
    ;({ clock, log } = freshRun(ssmMock))
  })

  it('runs the canary alone, then the rest, and reports every host', async () => {
    const ids = SimulatedFleet.ids(10)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    const result = await runRollout(ssm, deployScriptOn(ids), makeRuntime({ clock, log }))

    expect(result.ok).toBe(true)
    expect(result.primaryInstanceId).toBe(ids[0])
    expect(result.waves.map((w) => [w.kind, w.instanceIds.length])).toEqual([
      ['canary', 1],
      ['fleet', 9]
    ])
    expect(fleet.batches()).toEqual([[ids[0]], ids.slice(1)])
    expect(result.results.map((r) => r.instanceId)).toEqual(ids)
    expect(result.results.every((r) => r.status === 'Success' && r.exitCode === 0)).toBe(true)
    expect(result.results[0]!.durationMs).toBe(5_000)
    expect(result.results[3]!.stdoutTail).toBe('deployed')
    expect(result.commands.map((c) => c.wave)).toEqual([1, 2])
    expect(log.messages('info')).toContain('10/10 hosts done, 0 failed')
    // The canary started alone and finished before the fleet started.
    expect(fleet.commands[1]!.sentAt - fleet.commands[0]!.sentAt).toBeGreaterThanOrEqual(5_000)
  })

  it('stops at the first failure with max-errors 0: later waves never start', async () => {
    const ids = SimulatedFleet.ids(7)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[2]!, { outcome: 'Failed', exitCode: 3, stderr: 'migration lock held\n' })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { maxConcurrency: { kind: 'count', value: 2 } }),
      makeRuntime({ clock, log })
    )

    expect(result.ok).toBe(false)
    expect(fleet.batches()).toEqual([[ids[0]], [ids[1], ids[2]]])
    expect(statuses(result)).toEqual({
      [ids[0]!]: 'Success',
      [ids[1]!]: 'Success',
      [ids[2]!]: 'Failed',
      [ids[3]!]: 'Skipped',
      [ids[4]!]: 'Skipped',
      [ids[5]!]: 'Skipped',
      [ids[6]!]: 'Skipped'
    })
    const failed = result.results[2]!
    expect(failed.exitCode).toBe(3)
    expect(failed.stderrTail).toBe('migration lock held')
    expect(result.stoppedReason).toBe('1 host(s) failed, more than max-errors (0)')
    expect(result.results[3]!.reason).toBe(
      'not started: 1 host(s) failed, more than max-errors (0)'
    )
    expect(
      log.lines.find((l) => l.level === 'error' && l.title === `Deploy failed on ${ids[2]}`)
        ?.message
    ).toContain('migration lock held')
  })

  it('tolerates failures up to max-errors, yet the rollout is not ok', async () => {
    const ids = SimulatedFleet.ids(7)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[2]!, { outcome: 'Failed' })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, {
        maxConcurrency: { kind: 'count', value: 2 },
        maxErrors: { kind: 'count', value: 1 }
      }),
      makeRuntime({ clock, log })
    )
    expect(fleet.batches()).toHaveLength(4)
    expect(result.results.filter((r) => r.status === 'Success')).toHaveLength(6)
    expect(result.stoppedReason).toBeUndefined()
    expect(result.ok).toBe(false)
  })

  it('a canary failure stops everything, whatever max-errors says', async () => {
    const ids = SimulatedFleet.ids(4)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[0]!, { outcome: 'Failed' })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { maxErrors: { kind: 'percent', value: 50 } }),
      makeRuntime({ clock, log })
    )
    expect(fleet.batches()).toEqual([[ids[0]]])
    expect(result.stoppedReason).toBe('the canary failed')
  })

  it('run-once runs on the primary after its commands; its failure touches no other host', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[0]!, {
      scripts: {
        'rake db:migrate': { outcome: 'Failed', stderr: 'relation "users" already exists\n' }
      }
    })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { runOnceScript: ['rake db:migrate'] }),
      makeRuntime({ clock, log })
    )
    expect(fleet.batches()).toEqual([[ids[0]], [ids[0]]])
    expect(fleet.scriptFor(ids[0]!)).toBe('rake db:migrate')
    expect(result.runOnce?.status).toBe('Failed')
    expect(result.stoppedReason).toBe('run-once failed on the primary')
    expect(result.results.slice(1).every((r) => r.status === 'Skipped')).toBe(true)
    expect(result.ok).toBe(false)
  })

  it('run-once success is followed by the canary and the fleet', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { runOnceScript: ['rake db:migrate'] }),
      makeRuntime({ clock, log })
    )
    expect(fleet.batches()).toEqual([[ids[0]], [ids[0]], [ids[1], ids[2]]])
    expect(result.waves.map((w) => w.kind)).toEqual(['canary', 'run-once', 'fleet'])
    expect(result.runOnce?.status).toBe('Success')
    expect(result.ok).toBe(true)
  })

  it('reports a host that runs past its timeout as ExecutionTimedOut', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[1]!, { durationMs: 900_000 })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { hostTimeoutMs: 60_000, maxErrors: { kind: 'count', value: 5 } }),
      makeRuntime({ clock, log })
    )
    expect(statuses(result)[ids[1]!]).toBe('ExecutionTimedOut')
    expect(result.results[1]!.durationMs).toBe(60_000)
    expect(
      (fleet.commands[1]!.input['Parameters'] as Record<string, string[]>)['executionTimeout']
    ).toEqual(['60'])
    expect(result.ok).toBe(false)
  })

  it('reports DeliveryTimedOut and Undeliverable hosts', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[1]!, { outcome: 'DeliveryTimedOut' })
    fleet.setHost(ids[2]!, { outcome: 'Undeliverable' })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { maxErrors: { kind: 'count', value: 5 } }),
      makeRuntime({ clock, log })
    )
    expect(statuses(result)).toEqual({
      [ids[0]!]: 'Success',
      [ids[1]!]: 'DeliveryTimedOut',
      [ids[2]!]: 'Undeliverable'
    })
    expect(result.results[1]!.exitCode).toBeUndefined()
  })

  it('fails before sending anything when a host is offline or not SSM-managed', async () => {
    const ids = SimulatedFleet.ids(4)
    new SimulatedFleet(clock, {
      [ids[0]!]: {},
      [ids[1]!]: { ping: 'ConnectionLost' },
      [ids[2]!]: { ping: 'none' },
      [ids[3]!]: {}
    }).mock(ssmMock)
    const result = await runRollout(ssm, deployScriptOn(ids), makeRuntime({ clock, log }))
    expect(ssmMock).not.toHaveReceivedCommand(SendCommandCommand)
    expect(result.ok).toBe(false)
    expect(result.offline).toEqual([
      { instanceId: ids[1], reason: 'SSM agent ConnectionLost' },
      { instanceId: ids[2], reason: expect.stringContaining('not SSM-managed') }
    ])
    expect(result.stoppedReason).toContain('2 host(s) cannot be reached through SSM')
    expect(log.messages('error')).toEqual([
      `${ids[1]}: SSM agent ConnectionLost`,
      expect.stringMatching(new RegExp(`^${ids[2]}: not SSM-managed`))
    ])
  })

  it('skips offline hosts with a warning under skip-offline and deploys the rest', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, {
      [ids[0]!]: { ping: 'Inactive' },
      [ids[1]!]: {},
      [ids[2]!]: {}
    }).mock(ssmMock)
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { skipOffline: true }),
      makeRuntime({ clock, log })
    )
    expect(result.ok).toBe(true)
    expect(result.primaryInstanceId).toBe(ids[1])
    expect(fleet.batches()).toEqual([[ids[1]], [ids[2]]])
    expect(statuses(result)[ids[0]!]).toBe('Skipped')
    expect(log.messages('warning')).toEqual([`Skipping ${ids[0]}: SSM agent Inactive`])
  })

  it('130 hosts: batches of at most 50, one command status call per poll, concurrency fleet-wide', async () => {
    const ids = SimulatedFleet.ids(130)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { canary: 0 }),
      makeRuntime({ clock, log })
    )
    expect(result.ok).toBe(true)
    expect(fleet.batches().map((b) => b.length)).toEqual([50, 50, 30])
    expect(fleet.calls['DescribeInstanceInformation']).toBe(3)
    expect(fleet.calls['ListCommandInvocations']).toBe(3)
    // One ListCommands call lists all three commands each poll: calls grow with time, not hosts.
    const polls = clock.sleeps.length + 1
    expect(fleet.calls['ListCommands']).toBe(polls)
  })

  it('130 hosts at max-concurrency 40%: never more than 52 running at once', async () => {
    const ids = SimulatedFleet.ids(130)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { schedule: 'waves', maxConcurrency: { kind: 'percent', value: 40 } }),
      makeRuntime({ clock, log })
    )
    expect(result.ok).toBe(true)
    expect(result.waves.map((w) => w.instanceIds.length)).toEqual([1, 52, 52, 25])
    expect(fleet.batches().map((b) => b.length)).toEqual([1, 50, 2, 50, 2, 25])
    expect(fleet.maxConcurrency()).toBe(52)
  })

  it('cancels the batches already sent when a later batch of the wave cannot be sent', async () => {
    const ids = SimulatedFleet.ids(80)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    // Between the agent check and the fleet wave, a host of its second batch drops off SSM.
    clock.at(clock.now() + 1_000, () => fleet.setHost(ids[70]!, { ping: 'ConnectionLost' }))
    await expect(runRollout(ssm, deployScriptOn(ids), makeRuntime({ clock, log }))).rejects.toThrow(
      'SendCommand failed: InvalidInstanceId: Instances not in a valid state for account. Hint: the instance is not SSM-managed or its agent is offline'
    )
    expect(fleet.batches().map((b) => b.length)).toEqual([1, 50])
    expect(ssmMock).toHaveReceivedCommandWith(CancelCommandCommand, {
      CommandId: fleet.commands[1]!.id
    })
    expect(ssmMock).not.toHaveReceivedCommandWith(CancelCommandCommand, {
      CommandId: fleet.commands[0]!.id
    })
  })

  it('waits out the moment a new command is not visible yet', async () => {
    const ids = SimulatedFleet.ids(60)
    const fleet = new SimulatedFleet(clock, ids, { visibilityDelayMs: 3_000 }).mock(ssmMock)
    const result = await runRollout(ssm, deployScriptOn(ids), makeRuntime({ clock, log }))
    expect(result.ok).toBe(true)
    expect(fleet.calls['SendCommand']).toBe(3)
  })

  it('cancels running commands when the deadline passes and skips later waves', async () => {
    const ids = SimulatedFleet.ids(5)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[2]!, { durationMs: 600_000 })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, {
        schedule: 'waves',
        deadlineMs: 120_000,
        maxConcurrency: { kind: 'count', value: 2 }
      }),
      makeRuntime({ clock, log })
    )
    expect(ssmMock).toHaveReceivedCommandWith(CancelCommandCommand, {
      CommandId: fleet.commands[1]!.id
    })
    expect(statuses(result)).toEqual({
      [ids[0]!]: 'Success',
      [ids[1]!]: 'Success',
      [ids[2]!]: 'Cancelled',
      [ids[3]!]: 'Skipped',
      [ids[4]!]: 'Skipped'
    })
    expect(result.results[2]!.reason).toBe('cancelled: the deadline passed')
    expect(result.stoppedReason).toBe('the deadline passed')
    expect(result.ok).toBe(false)
  })

  it('cancels running commands when the run is cancelled', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[1]!, { durationMs: 600_000 })
    const abort = new AbortController()
    const sent: string[] = []
    const result = await runRollout(
      ssm,
      deployScriptOn(ids),
      makeRuntime({ clock, log, signal: abort.signal }),
      {
        onCommandSent: (c) => {
          sent.push(c.commandId)
          if (c.wave === 2) clock.at(clock.now() + 30_000, () => abort.abort())
        }
      }
    )
    expect(sent).toEqual(fleet.commands.map((c) => c.id))
    expect(ssmMock).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: sent[1] })
    expect(statuses(result)[ids[1]!]).toBe('Cancelled')
    expect(result.stoppedReason).toBe('the rollout was cancelled')
  })

  it('dry run checks the agents and plans the waves, and sends nothing', async () => {
    const ids = SimulatedFleet.ids(5)
    new SimulatedFleet(clock, ids).mock(ssmMock)
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, {
        schedule: 'waves',
        dryRun: true,
        maxConcurrency: { kind: 'count', value: 2 }
      }),
      makeRuntime({ clock, log })
    )
    expect(ssmMock).not.toHaveReceivedCommand(SendCommandCommand)
    expect(result.waves.map((w) => w.instanceIds)).toEqual([
      [ids[0]],
      [ids[1], ids[2]],
      [ids[3], ids[4]]
    ])
    expect(result.ok).toBe(true)
    expect(log.messages('group').some((g) => g.includes('./deploy.sh'))).toBe(true)
  })

  it('absorbs throttled status calls even without SDK retries: the poll slows down instead', async () => {
    const ids = SimulatedFleet.ids(20)
    const fleet = new SimulatedFleet(clock, ids, {
      throttle: (api, n) => api === 'ListCommands' && n % 3 === 0
    }).mock(ssmMock)
    const result = await runRollout(ssm, deployScriptOn(ids), makeRuntime({ clock, log }))
    expect(result.ok).toBe(true)
    expect(fleet.calls['ListCommands']).toBeGreaterThan(4)
  })

  it('calls onWaveDone after each wave with its results', async () => {
    const ids = SimulatedFleet.ids(3)
    new SimulatedFleet(clock, ids).mock(ssmMock)
    const seen: string[] = []
    await runRollout(ssm, deployScriptOn(ids), makeRuntime({ clock, log }), {
      onWaveDone: (wave, results) =>
        seen.push(`${wave.kind}:${results.map((r) => r.status).join(',')}`)
    })
    expect(seen).toEqual(['canary:Success', 'fleet:Success,Success'])
  })
})

describe('run-once: on the primary after its commands, before any other host', () => {
  let clock: VirtualClock
  beforeEach(() => {
    ;({ clock } = freshRun(ssmMock))
  })
  const migrate = { runOnceScript: ['rake db:migrate'] }

  it('sends the commands, then run-once, to the primary; others start once run-once succeeded', async () => {
    const ids = SimulatedFleet.ids(4)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[0]!, { scripts: { 'rake db:migrate': { durationMs: 20_000 } } })
    const events: string[] = []
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, { ...migrate, canary: 2 }),
      makeRuntime({ clock, log: new RecordingLog() }),
      {
        onCommandSent: (c) => events.push(`sent ${c.instanceIds.join(',')}`),
        onPrimaryDone: (r) => events.push(`primary done ${r.instanceId}`)
      }
    )
    expect(result.ok).toBe(true)
    expect(fleet.scriptsFor(ids[0]!)).toEqual(['./deploy.sh', 'rake db:migrate'])
    expect(events).toEqual([
      `sent ${ids[0]}`,
      `sent ${ids[0]}`,
      `primary done ${ids[0]}`,
      `sent ${ids[1]}`,
      `sent ${ids[2]},${ids[3]}`
    ])
    // No other host was sent anything before run-once had finished (20 s after it was sent).
    const [, runOnce, ...others] = fleet.commands
    for (const c of others) expect(c.sentAt).toBeGreaterThanOrEqual(runOnce!.sentAt + 20_000)
    expect(result.waves.map((w) => [w.kind, w.instanceIds])).toEqual([
      ['canary', [ids[0]]],
      ['run-once', [ids[0]]],
      ['canary', [ids[1]]],
      ['fleet', [ids[2], ids[3]]]
    ])
    expect(result.runOnce).toMatchObject({ instanceId: ids[0], status: 'Success', wave: 2 })
  })

  it('a failing run-once stops everything, is reported, and the primary is not done', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[0]!, {
      scripts: {
        'rake db:migrate': { outcome: 'Failed', stderr: 'relation "users" already exists\n' }
      }
    })
    let primaryDone = false
    const log = new RecordingLog()
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, migrate),
      makeRuntime({ clock, log }),
      {
        onPrimaryDone: () => (primaryDone = true)
      }
    )
    expect(fleet.batches()).toEqual([[ids[0]], [ids[0]]])
    expect(fleet.scriptsFor(ids[0]!)).toEqual(['./deploy.sh', 'rake db:migrate'])
    expect(result.runOnce).toMatchObject({
      status: 'Failed',
      stderrTail: 'relation "users" already exists'
    })
    expect(result.stoppedReason).toBe('run-once failed on the primary')
    expect(statuses(result)).toEqual({
      [ids[0]!]: 'Success',
      [ids[1]!]: 'Skipped',
      [ids[2]!]: 'Skipped'
    })
    expect(result.results[1]!.reason).toBe('not started: run-once failed on the primary')
    expect(primaryDone).toBe(false)
    expect(result.ok).toBe(false)
    expect(log.messages('error')).toContain(
      'Stopping the rollout after wave 2 (run-once on the primary): run-once failed on the primary.'
    )
  })

  it("when the primary's commands fail, run-once never runs", async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[0]!, { outcome: 'Failed' })
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, migrate),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(fleet.scriptsFor(ids[0]!)).toEqual(['./deploy.sh'])
    expect(fleet.batches()).toHaveLength(1)
    expect(result.runOnce).toBeUndefined()
    expect(result.stoppedReason).toBe('the canary failed')
  })

  it('with canary 0, the primary still runs alone first, then run-once, then the rest', async () => {
    const ids = SimulatedFleet.ids(5)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    const result = await runRollout(
      ssm,
      deployScriptOn(ids, {
        ...migrate,
        schedule: 'waves',
        canary: 0,
        maxConcurrency: { kind: 'count', value: 2 }
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    expect(fleet.batches()).toEqual([[ids[0]], [ids[0]], [ids[1], ids[2]], [ids[3], ids[4]]])
    expect(result.waves.map((w) => w.kind)).toEqual(['primary', 'run-once', 'fleet', 'fleet'])
  })

  it("lifecycle steps wrap the primary's commands and run-once together", async () => {
    const ids = SimulatedFleet.ids(2)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    const events: string[] = []
    await runRollout(ssm, deployScriptOn(ids, migrate), makeRuntime({ clock }), {
      onCommandSent: (c) => events.push(`sent ${fleet.scriptFor(c.instanceIds[0]!)}`),
      lifecycle: {
        before: async (hosts) => (events.push(`before ${hosts.length}`), []),
        after: async (results) => (events.push(`after ${results.length}`), [])
      }
    })
    expect(events).toEqual([
      'before 1',
      'sent ./deploy.sh',
      'sent rake db:migrate',
      'after 1',
      'before 1',
      'sent ./deploy.sh',
      'after 1'
    ])
  })
})

describe('rollout through the real SDK under throttling', () => {
  it('absorbs throttling on a third of all calls', async () => {
    ssmMock.restore()
    try {
      const clock = new VirtualClock()
      const ids = SimulatedFleet.ids(60)
      const fleet = new SimulatedFleet(clock, ids, { throttle: (_api, n) => n % 3 === 0 })
      // The SDK's own retries at work (standard mode: adaptive adds a client-side rate limiter
      // that would make this test slow without changing what it shows).
      const client = fleet.client({ maxAttempts: 5, retryMode: 'standard' })
      const result = await runRollout(client, deployScriptOn(ids), makeRuntime({ clock }))
      expect(result.ok).toBe(true)
      expect(result.results.filter((r) => r.status === 'Success')).toHaveLength(60)
      expect(fleet.batches().map((b) => b.length)).toEqual([1, 50, 9])
    } finally {
      mockClient(SSMClient) // keep later files' expectations simple
    }
  })
})

describe('runOnHost', () => {
  beforeEach(() => {
    ssmMock.reset()
  })

  it('waits through InvocationDoesNotExist right after SendCommand', async () => {
    const clock = new VirtualClock()
    const [id] = SimulatedFleet.ids(1)
    new SimulatedFleet(
      clock,
      { [id!]: { durationMs: 2_000, stdout: 'synced\n' } },
      { invocationDelayMs: 1_500 }
    ).mock(ssmMock)
    const r = await runOnHost(
      ssm,
      id!,
      ['sync'],
      {
        purpose: 'sync the code volume',
        timeoutMs: 60_000
      },
      makeRuntime({ clock })
    )
    expect(r.status).toBe('Success')
    expect(r.stdout).toBe('synced\n')
  })

  it('fails with the command, status and last lines of output', async () => {
    const clock = new VirtualClock()
    const [id] = SimulatedFleet.ids(1)
    new SimulatedFleet(clock, {
      [id!]: { outcome: 'Failed', exitCode: 1, stderr: 'fsfreeze: /srv/app: not a mount point\n' }
    }).mock(ssmMock)
    await expect(
      runOnHost(
        ssm,
        id!,
        ['fsfreeze -f /srv/app'],
        {
          purpose: 'freeze /srv/app',
          timeoutMs: 60_000
        },
        makeRuntime({ clock })
      )
    ).rejects.toThrow(
      `Could not freeze /srv/app on ${id}: command cmd-0001 ended Failed (exit code 1):\nfsfreeze: /srv/app: not a mount point`
    )
  })
})

describe('planWaves', () => {
  it('canary 0 with a count splits the fleet evenly from the primary on', () => {
    expect(
      planWaves(['a', 'b', 'c', 'd', 'e'], { runOnce: false, canary: 0, maxConcurrency: 2 })
    ).toEqual([
      { number: 1, kind: 'fleet', instanceIds: ['a', 'b'] },
      { number: 2, kind: 'fleet', instanceIds: ['c', 'd'] },
      { number: 3, kind: 'fleet', instanceIds: ['e'] }
    ])
  })
  it('a canary larger than one takes the first hosts, after the primary and its run-once', () => {
    expect(
      planWaves(['a', 'b', 'c'], { runOnce: true, canary: 2, maxConcurrency: 10 }).map(
        (w) => w.instanceIds
      )
    ).toEqual([['a'], ['a'], ['b'], ['c']])
  })
})
