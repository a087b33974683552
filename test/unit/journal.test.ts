import { beforeEach, describe, expect, it } from '@jest/globals'
import { CreateSnapshotCommand } from '@aws-sdk/client-ec2'
import { SendCommandCommand } from '@aws-sdk/client-ssm'
import { mockAws, scriptedFleet } from '../../support/scripted-deploy.js'
import { Journal, JOURNAL_KEY, mapStateProvider } from '../../src/held/journal.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { settleHeld } from '../../src/held/settle.js'
import { snapshotSettler } from '../../src/held/publish-settlers.js'
import { commandSettler } from '../../src/held/settlers.js'
import { makeRuntime } from '../../src/runtime.js'
import { SimulatedEc2 } from '../../support/ec2-world.js'
import { deployOptions } from '../../support/fixtures.js'
import { RecordingLog } from '../helpers/log.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'

const aws = mockAws()
const { clients } = aws
const IDS = SimulatedFleet.ids(3)

describe('the deploy journal', () => {
  let clock: VirtualClock
  let world: SimulatedEc2
  let fleet: SimulatedFleet
  beforeEach(() => {
    ;({ clock, world, fleet } = scriptedFleet(aws, {
      ids: IDS,
      commandMs: 60_000,
      snapshotMs: 30_000
    }))
  })

  it('records what a deploy takes as it takes it, and only what is still held', async () => {
    // Every value the runner's state was given, in order (core.saveState appends each).
    const writes: string[] = []
    const state = {
      setState: (key: string, value: string) => void (key === JOURNAL_KEY && writes.push(value)),
      getState: () => writes.at(-1) ?? ''
    }
    const result = await runDeploy(
      clients,
      deployOptions(),
      makeRuntime({ clock, log: new RecordingLog() }),
      state
    )
    expect(result.ok).toBe(true)
    const sets = writes.map((w) => (JSON.parse(w) as Array<{ held: unknown }>).map((e) => e.held))
    const command = (i: number) => ({ kind: 'command', commandId: fleet.commands[i]!.id })
    const snapshot = { kind: 'snapshot', snapshotId: result.publish!.snapshot.snapshotId }
    // Each was recorded while held: the fleet wave was sent while CreateSnapshot was on its way.
    expect(sets).toContainEqual([command(0), command(1), snapshot])
    // Only what is still held is ever written (never the growing history), and at the end, nothing.
    expect(sets.slice(-3)).toEqual([[command(1), snapshot], [snapshot], []])
    expect(sets.at(-1)).toEqual([])
    // Nothing was held at the end: nothing to settle.
    expect(result.settled).toEqual([])
  })

  it("a deploy's finally settles the snapshot a failed rollout never published", async () => {
    fleet.setHost(IDS[2]!, { durationMs: 60_000, outcome: 'Failed' })
    const state = mapStateProvider()
    const result = await runDeploy(
      clients,
      deployOptions(),
      makeRuntime({ clock, log: new RecordingLog() }),
      state
    )
    const snapshotId = result.publish!.snapshot.snapshotId
    expect(result.settled).toEqual([
      {
        held: { kind: 'snapshot', snapshotId },
        outcome: `Tagged snapshot ${snapshotId} as failed: it was never published.`,
        ok: true
      }
    ])
    expect(world.snapshots.get(snapshotId)!.tags['ebs-autoscale:status']).toBe('failed')
    expect(Journal.read(state).held()).toEqual([])
  })

  it('the post step replays a journal left by a main step that died: only what still runs is cancelled', async () => {
    // What a main step killed mid-rollout leaves behind: one command ended, one still running,
    // and a snapshot it made but never published.
    fleet.setHost(IDS[1]!, { durationMs: 600_000 })
    const send = (id: string) =>
      clients.ssm.send(
        new SendCommandCommand({
          DocumentName: 'AWS-RunShellScript',
          InstanceIds: [id],
          Parameters: { commands: ['./deploy'] }
        })
      )
    const ended = (await send(IDS[0]!)).Command!.CommandId!
    const running = (await send(IDS[1]!)).Command!.CommandId!
    const snapshotId = (
      await clients.ec2.send(new CreateSnapshotCommand({ VolumeId: `vol-${IDS[0]!.slice(2)}` }))
    ).SnapshotId!
    await clock.sleep(120_000)
    const state = new Map<string, string>()
    const main = Journal.start(mapStateProvider(state))
    main.take({ kind: 'command', commandId: ended })
    main.take({ kind: 'command', commandId: running })
    main.take({ kind: 'snapshot', snapshotId })

    // The post step: a new process, the journal read back from the state the runner kept.
    const post = Journal.read(mapStateProvider(new Map([[JOURNAL_KEY, state.get(JOURNAL_KEY)!]])))
    const released = await settleHeld(post, {
      command: commandSettler(clients.ssm),
      snapshot: snapshotSettler(clients.ec2, { reason: 'the main step died', snapshot: 'tag' })
    })

    expect(released.map((r) => r.outcome)).toEqual([
      `Left command ${ended} as it was: it had already ended (Success).`,
      `Cancelled command ${running} (it was InProgress).`,
      `Tagged snapshot ${snapshotId} as failed: it was never published.`
    ])
    expect(fleet.calls['CancelCommand']).toBe(1)
    expect(fleet.commands.find((c) => c.id === running)!.cancelledAt).toBeDefined()
    expect(fleet.commands.find((c) => c.id === ended)!.cancelledAt).toBeUndefined()
    expect(world.snapshots.get(snapshotId)!.tags).toMatchObject({
      'ebs-autoscale:status': 'failed',
      'ebs-autoscale:failure': 'the main step died'
    })
    expect(post.held()).toEqual([])
  })
})
