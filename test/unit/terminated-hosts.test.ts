/**
 * Hosts terminated mid-rollout, on the scripted SSM fleet and virtual time: reported
 * Terminated (not failed, not counted against max-errors) as soon as the bounded state check
 * sees them, their invocation cancelled by instance; a real failure still counts; the check's
 * calls do not grow with the fleet; a deploy whose primary went before its snapshot publishes
 * nothing. And the EC2 side of the hook (goneInstances), NotFound included.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { CancelCommandCommand, SSMClient } from '@aws-sdk/client-ssm'
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { runDeploy } from '../../src/flows/deploy.js'
import { goneInstances } from '../../src/hosts/gone.js'
import { hostStatus } from '../../src/rollout/commands.js'
import { startedHosts } from '../../src/rollout/rollback.js'
import { runRollout, type RolloutOptions } from '../../src/rollout/run.js'
import { makeRuntime } from '../../src/runtime.js'
import { rolloutOutputs } from '../../src/actions/shared/rollout.js'
import { rolloutTable, rolloutTotals } from '../../src/report/rollout.js'
import { mockAws, scriptedFleet } from '../../support/scripted-deploy.js'
import { deployOptions, rolloutSettings } from '../../support/fixtures.js'
import { SimulatedFleet } from '../../support/ssm-fleet.js'
import { VirtualClock } from '../../support/virtual-clock.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { deployScriptOn, statuses } from '../helpers/rollout.js'

const ssmMock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'us-east-1' })
const HOUR = 3_600_000
const COMMAND_MS = 5 * 60_000

/** Hosts time out after an hour: long after the state check must have found them gone. */
const options = (ids: string[], extra: Partial<RolloutOptions> = {}) =>
  deployScriptOn(ids, { hostTimeoutMs: HOUR, ...extra })

describe('a host terminated while its command runs', () => {
  let clock: VirtualClock
  let log: RecordingLog
  beforeEach(() => {
    ;({ clock, log } = freshRun(ssmMock))
  })

  it('is Terminated within the check period, not failed, and max-errors 0 passes', async () => {
    const ids = SimulatedFleet.ids(6)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(ids.map((id) => [id, { durationMs: COMMAND_MS }]))
    )
    fleet.mock(ssmMock)
    const start = clock.now()
    // Two minutes into the fleet wave (which starts after the 5-minute canary).
    fleet.terminate(ids[3]!, start + COMMAND_MS + 120_000)

    const result = await runRollout(ssm, options(ids), makeRuntime({ clock, log }), {
      goneHosts: fleet.goneHosts
    })

    expect(result.ok).toBe(true)
    expect(result.stoppedReason).toBeUndefined()
    expect(statuses(result)).toEqual({
      [ids[0]!]: 'Success',
      [ids[1]!]: 'Success',
      [ids[2]!]: 'Success',
      [ids[3]!]: 'Terminated',
      [ids[4]!]: 'Success',
      [ids[5]!]: 'Success'
    })
    const gone = result.results[3]!
    expect(gone.reason).toBe(
      'the instance is terminated (while its command ran; the command was cancelled)'
    )
    // Its invocation alone was cancelled, within one check period of the termination.
    const cancels = ssmMock.commandCalls(CancelCommandCommand).map((c) => c.args[0].input)
    expect(cancels).toEqual([{ CommandId: gone.commandId, InstanceIds: [ids[3]] }])
    // The fleet wave ended with its other hosts (5 min), not at the one-hour host timeout.
    expect(clock.now() - start).toBeLessThan(2 * COMMAND_MS + 30_000)
    expect(rolloutOutputs(result)['failed-instance-ids']).toEqual([])
    expect(rolloutOutputs(result)['terminated-instance-ids']).toEqual([ids[3]])
    expect(rolloutTotals(result)).toBe(
      '**Succeeded** · 6 host(s): 5 succeeded, 0 failed, 0 skipped, 1 terminated mid-rollout'
    )
    expect(rolloutTable(result)).toContain(
      `| \`${ids[3]}\` | 2 | ⚠️ Terminated | – | – | the instance is terminated (while its command ran; the command was cancelled) |`
    )
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warning', title: `Host terminated mid-rollout: ${ids[3]}` })
    )
  })

  it('without the hook, the same host waits out the host timeout and fails the rollout', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(ids.map((id) => [id, { durationMs: COMMAND_MS }]))
    )
    fleet.mock(ssmMock)
    const start = clock.now()
    fleet.terminate(ids[2]!, start + COMMAND_MS + 60_000)

    const result = await runRollout(
      ssm,
      options(ids, { deadlineMs: 2 * HOUR }),
      makeRuntime({ clock, log })
    )

    expect(statuses(result)[ids[2]!]).toBe('TimedOut')
    expect(result.ok).toBe(false)
    expect(clock.now() - start).toBeGreaterThanOrEqual(HOUR)
  })

  it('a real failure still counts against max-errors; the terminated host does not', async () => {
    const ids = SimulatedFleet.ids(8)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(ids.map((id) => [id, { durationMs: COMMAND_MS }]))
    )
    fleet.mock(ssmMock)
    fleet.setHost(ids[2]!, { outcome: 'Failed', exitCode: 2 })
    fleet.terminate(ids[1]!, clock.now() + COMMAND_MS + 60_000)

    const result = await runRollout(
      ssm,
      options(ids, { maxConcurrency: { kind: 'count', value: 2 }, schedule: 'waves' }),
      makeRuntime({ clock, log }),
      { goneHosts: fleet.goneHosts }
    )

    // One failure, not two: the stop reason counts the failed host alone.
    expect(result.stoppedReason).toBe('1 host(s) failed, more than max-errors (0)')
    expect(statuses(result)).toMatchObject({
      [ids[1]!]: 'Terminated',
      [ids[2]!]: 'Failed',
      [ids[3]!]: 'Skipped'
    })
    // The failed host was looked at (its invocation ended badly) and is still there.
    expect(fleet.goneCalls).toContainEqual([ids[2]])
    expect(rolloutOutputs(result)['failed-instance-ids']).toEqual([ids[2]])
  })

  it('a host that ends TimedOut or Undeliverable and turns out gone is Terminated', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[2]!, { outcome: 'Undeliverable' })
    fleet.terminate(ids[2]!, clock.now() + 60 * 60_000)
    // EC2 says it is gone by the time SSM gives up on it (the watch looks only at the end).
    const result = await runRollout(ssm, options(ids), makeRuntime({ clock, log }), {
      goneHosts: async (asked) =>
        new Map(asked.filter((id) => id === ids[2]).map((id) => [id, 'shutting-down']))
    })

    expect(result.ok).toBe(true)
    expect(result.results[2]).toMatchObject({
      status: 'Terminated',
      reason: 'the instance is shutting-down (SSM said Undeliverable)'
    })
  })

  it('a host terminated while it waited for its turn is Terminated; the others of its batch are sent again', async () => {
    const ids = SimulatedFleet.ids(6)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(ids.map((id) => [id, { durationMs: COMMAND_MS }]))
    )
    fleet.mock(ssmMock)
    // Its wave (the fleet's second, [3, 4]) starts after 10 minutes; it goes after one.
    fleet.terminate(ids[4]!, clock.now() + 60_000)

    const result = await runRollout(
      ssm,
      options(ids, { maxConcurrency: { kind: 'count', value: 2 }, schedule: 'waves' }),
      makeRuntime({ clock, log }),
      { goneHosts: fleet.goneHosts }
    )

    expect(result.ok).toBe(true)
    expect(result.results[4]).toEqual({
      instanceId: ids[4],
      status: 'Terminated',
      wave: 3,
      reason: 'the instance is terminated (before its command was sent)'
    })
    // SendCommand refused [3, 4] for the gone host; 3 alone was sent again, then the last wave.
    expect(fleet.batches()).toEqual([[ids[0]], [ids[1], ids[2]], [ids[3]], [ids[5]]])
    expect(statuses(result)[ids[3]!]).toBe('Success')
  })

  it('looks at all running hosts in one call at most every 20 s, however many they are', async () => {
    const looks: Record<number, number> = {}
    for (const n of [10, 200]) {
      ssmMock.reset()
      clock = new VirtualClock()
      const ids = SimulatedFleet.ids(n)
      const fleet = new SimulatedFleet(
        clock,
        Object.fromEntries(ids.map((id) => [id, { durationMs: COMMAND_MS }]))
      )
      fleet.mock(ssmMock)
      const result = await runRollout(
        ssm,
        options(ids, { canary: 0 }),
        makeRuntime({ clock, log: new RecordingLog() }),
        { goneHosts: fleet.goneHosts }
      )
      expect(result.ok).toBe(true)
      looks[n] = fleet.goneCalls.length
      // Each look names every running host at once.
      expect(Math.max(...fleet.goneCalls.map((c) => c.length))).toBe(n)
    }
    // Five minutes of commands: about 15 looks (one per 20 s), for 10 hosts as for 200.
    expect(looks[10]).toBe(looks[200])
    expect(looks[10]).toBeGreaterThanOrEqual(13)
    expect(looks[10]).toBeLessThanOrEqual(16)
  })

  it('the primary terminated before run-once: run-once never runs and the rollout fails saying so', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(ids.map((id) => [id, { durationMs: COMMAND_MS }]))
    )
    fleet.mock(ssmMock)
    fleet.terminate(ids[0]!, clock.now() + 60_000)

    const result = await runRollout(
      ssm,
      options(ids, { canary: 0, runOnceScript: ['./migrate'] }),
      makeRuntime({ clock, log }),
      { goneHosts: fleet.goneHosts }
    )

    expect(result.ok).toBe(false)
    expect(result.stoppedReason).toBe(
      `the primary ${ids[0]} was terminated before run-once, so run-once did not run`
    )
    expect(result.runOnce).toBeUndefined()
    expect(fleet.batches()).toEqual([[ids[0]]])
  })

  it('a rollback leaves out hosts that were terminated (nothing to send to)', () => {
    const result = {
      ok: false,
      waves: [],
      results: [
        { instanceId: 'i-1', status: 'Failed' as const, commandId: 'c-1' },
        { instanceId: 'i-2', status: 'Terminated' as const, commandId: 'c-1' },
        { instanceId: 'i-3', status: 'Success' as const, commandId: 'c-1' },
        { instanceId: 'i-4', status: 'Skipped' as const }
      ],
      commands: [],
      offline: [],
      offlineSkipped: false,
      dryRun: false
    }
    expect(startedHosts(result)).toEqual(['i-1', 'i-3'])
  })

  it("SSM's own StatusDetails Terminated (MaxErrors reached) reads Cancelled, not an instance gone", () => {
    expect(hostStatus('Cancelled', 'Terminated')).toBe('Cancelled')
  })
})

describe('a deploy whose primary is terminated before its snapshot', () => {
  const aws = mockAws()
  const IDS = SimulatedFleet.ids(4)

  it('names the termination, not the missing volume, when the primary goes right after its commands', async () => {
    const { clock, world } = scriptedFleet(aws, {
      ids: IDS,
      commandMs: COMMAND_MS,
      snapshotMs: 90_000
    })
    // Its commands succeeded; it is gone before its snapshot could find its volume.
    clock.at(clock.now() + COMMAND_MS, () => {
      world.instances.get(IDS[0]!)!.state = 'terminated'
    })

    const result = await runDeploy(
      aws.clients,
      deployOptions(),
      makeRuntime({ clock, log: new RecordingLog() })
    )

    expect(result.ok).toBe(false)
    expect(result.failure?.message).toBe(
      `The primary ${IDS[0]} was terminated (scale-in or a spot reclaim) before its snapshot was taken, so nothing was published; the launch template's default is unchanged. Instances launched to replace it boot the old code until a deploy succeeds: deploy again.`
    )
    expect(world.calls['CreateSnapshot']).toBeUndefined()
    expect(world.versions).toHaveLength(1)
  })

  it('publishes nothing and fails saying why, without waiting out the host timeout', async () => {
    const { clock, world, fleet } = scriptedFleet(aws, {
      ids: IDS,
      commandMs: COMMAND_MS,
      snapshotMs: 90_000
    })
    const at = clock.now() + 60_000
    fleet.terminate(IDS[0]!, at)
    clock.at(at, () => {
      world.instances.get(IDS[0]!)!.state = 'terminated'
    })

    const result = await runDeploy(
      aws.clients,
      deployOptions({ rollout: rolloutSettings({ hostTimeoutMs: HOUR }) }),
      makeRuntime({ clock, log: new RecordingLog() })
    )

    expect(result.ok).toBe(false)
    expect(result.failure?.message).toBe(
      `The primary ${IDS[0]} was terminated (scale-in or a spot reclaim) before its snapshot was taken, so nothing was published; the launch template's default is unchanged. Instances launched to replace it boot the old code until a deploy succeeds: deploy again.`
    )
    expect(result.rollout?.stoppedReason).toBe(
      `the primary ${IDS[0]} was terminated before it finished`
    )
    // No snapshot, no new version, and no other host started on code that cannot be published.
    expect(world.calls['CreateSnapshot']).toBeUndefined()
    expect(world.versions).toHaveLength(1)
    expect(world.defaultVersion).toBe(1)
    expect(fleet.batches()).toEqual([[IDS[0]]])
    expect(clock.now() - (at - 60_000)).toBeLessThan(2 * 60_000)
  })
})

describe('goneInstances (EC2 instance states)', () => {
  const ec2Mock = mockClient(EC2Client)
  const ec2 = new EC2Client({ region: 'us-east-1' })
  beforeEach(() => {
    ec2Mock.reset()
  })
  const instance = (id: string, state: string) => ({
    Instances: [{ InstanceId: id, State: { Name: state as 'running' } }]
  })

  it('names shutting-down, terminated and forgotten instances in one filtered call', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        instance('i-1', 'running'),
        instance('i-2', 'shutting-down'),
        instance('i-3', 'terminated'),
        instance('i-5', 'stopping')
      ]
    })
    const gone = await goneInstances(ec2, ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'])
    expect(Object.fromEntries(gone)).toEqual({
      'i-2': 'shutting-down',
      'i-3': 'terminated',
      'i-4': 'not-found'
    })
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1)
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [{ Name: 'instance-id', Values: ['i-1', 'i-2', 'i-3', 'i-4', 'i-5'] }]
    })
  })

  it('on InvalidInstanceID.NotFound, asks about each id alone so a running host is never taken for gone', async () => {
    const notFound = Object.assign(new Error("The instance ID 'i-2' does not exist"), {
      name: 'InvalidInstanceID.NotFound'
    })
    ec2Mock.on(DescribeInstancesCommand).rejects(notFound)
    ec2Mock
      .on(DescribeInstancesCommand, { InstanceIds: ['i-1'] })
      .resolves({ Reservations: [instance('i-1', 'running')] })
    const gone = await goneInstances(ec2, ['i-1', 'i-2'])
    expect(Object.fromEntries(gone)).toEqual({ 'i-2': 'not-found' })
  })

  it('any other error is an error (the rollout warns and goes on)', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'UnauthorizedOperation' }))
    await expect(goneInstances(ec2, ['i-1'])).rejects.toThrow(/DescribeInstances/)
  })
})
