import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput
} from '@aws-sdk/client-cloudwatch'
import { SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { bake } from '../../src/alarms/bake.js'
import { AlarmGate } from '../../src/alarms/gate.js'
import { RolloutGuard } from '../../src/alarms/guard.js'
import { readAlarms } from '../../src/alarms/read.js'
import type { AlarmStateValue } from '../../src/alarms/types.js'
import { parseAlarmNames } from '../../src/actions/shared/alarms.js'
import { runRollout } from '../../src/rollout/run.js'
import { makeRuntime } from '../../src/runtime.js'
import { rolloutSettings } from '../../support/fixtures.js'
import { SimulatedFleet } from '../../support/ssm-fleet.js'
import { VirtualClock } from '../../support/virtual-clock.js'
import { RecordingLog } from '../helpers/log.js'

const cwMock = mockClient(CloudWatchClient)
const cloudwatch = new CloudWatchClient({ region: 'us-east-1' })
const ssmMock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'us-east-1' })
const UPDATED = new Date('2026-01-01T00:00:30Z')

/** CloudWatch as a map of alarm name -> state (a function of time when it changes). */
function alarms(states: Record<string, AlarmStateValue | (() => AlarmStateValue)>): void {
  cwMock.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => ({
    MetricAlarms: (input.AlarmNames ?? [])
      .filter((n) => n in states)
      .map((n) => {
        const s = states[n]!
        const state = typeof s === 'function' ? s() : s
        return {
          AlarmName: n,
          StateValue: state,
          StateReason: state === 'ALARM' ? 'Threshold Crossed: 1 datapoint [12.0] > 5.0' : '',
          StateUpdatedTimestamp: UPDATED
        }
      })
  }))
}

let clock: VirtualClock
beforeEach(() => {
  cwMock.reset()
  ssmMock.reset()
  clock = new VirtualClock()
})
const runtime = () => makeRuntime({ clock, log: new RecordingLog() })

describe('readAlarms', () => {
  it('asks for at most 100 names a call, reads every page, metric and composite alarms', async () => {
    const names = Array.from({ length: 150 }, (_, i) => `alarm-${i}`)
    cwMock.on(DescribeAlarmsCommand).callsFake((input: DescribeAlarmsCommandInput) => {
      const batch = input.AlarmNames!
      const half = Math.ceil(batch.length / 2)
      const page = input.NextToken ? batch.slice(half) : batch.slice(0, half)
      const [composite, ...metric] = page
      return {
        MetricAlarms: metric.map((n) => ({ AlarmName: n, StateValue: 'OK' })),
        CompositeAlarms: [{ AlarmName: composite, StateValue: 'OK' }],
        ...(input.NextToken ? {} : { NextToken: 'page-2' })
      }
    })
    const states = await readAlarms(cloudwatch, names)
    expect(states.map((s) => s.name)).toEqual(names)
    expect(states.filter((s) => s.kind === 'composite').map((s) => s.name)).toEqual([
      'alarm-0',
      'alarm-50',
      'alarm-100',
      'alarm-125'
    ])
    const calls = cwMock.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input)
    expect(calls.map((c) => [c.AlarmNames!.length, c.NextToken])).toEqual([
      [100, undefined],
      [100, 'page-2'],
      [50, undefined],
      [50, 'page-2']
    ])
    expect(calls[0]!.AlarmTypes).toEqual(['MetricAlarm', 'CompositeAlarm'])
  })

  it('refuses a name CloudWatch does not know, naming it', async () => {
    alarms({ 'api-5xx': 'OK' })
    await expect(readAlarms(cloudwatch, ['api-5xx', 'api-5XX', 'latency'])).rejects.toThrow(
      'CloudWatch has no alarm named "api-5XX", "latency" in this region. Check the alarms input (names are case-sensitive) and aws-region.'
    )
  })
})

describe('RolloutGuard.preflight (before any change)', () => {
  const preflight = (insufficientData: 'ok' | 'fail' = 'ok') =>
    RolloutGuard.preflight(
      cloudwatch,
      { alarms: { names: ['api-5xx', 'queue-depth'], insufficientData } },
      runtime()
    )

  it('refuses an alarm already in ALARM, naming it and its reason', async () => {
    alarms({ 'api-5xx': 'OK', 'queue-depth': 'ALARM' })
    await expect(preflight()).rejects.toThrow(
      'Not deploying: alarm "queue-depth" is in ALARM since 2026-01-01T00:00:30.000Z: Threshold Crossed: 1 datapoint [12.0] > 5.0. Nothing was changed; deploy once the alarm is OK.'
    )
  })

  it('refuses an unknown alarm', async () => {
    alarms({ 'api-5xx': 'OK' })
    await expect(preflight()).rejects.toThrow('CloudWatch has no alarm named "queue-depth"')
  })

  it('lets INSUFFICIENT_DATA through by default, and refuses it with insufficient-data: fail', async () => {
    alarms({ 'api-5xx': 'OK', 'queue-depth': 'INSUFFICIENT_DATA' })
    const { checked } = await preflight('ok')
    expect(checked).toBe(
      'Alarms: 2 named, none firing (api-5xx: OK, queue-depth: INSUFFICIENT_DATA).'
    )
    await expect(preflight('fail')).rejects.toThrow(
      'Not deploying: alarm "queue-depth" is in INSUFFICIENT_DATA since 2026-01-01T00:00:30.000Z.'
    )
  })
})

describe('the alarm gate during a rollout', () => {
  it('stops new hosts the moment an alarm is seen: nothing is sent after it', async () => {
    const hosts = SimulatedFleet.ids(6)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(hosts.map((id) => [id, { durationMs: 20_000 }]))
    ).mock(ssmMock)
    const start = clock.now()
    // Fires 30 s in: after the canary (20 s), while the first fleet wave runs.
    alarms({ 'api-5xx': () => (clock.now() - start >= 30_000 ? 'ALARM' : 'OK') })
    const gate = new AlarmGate(
      cloudwatch,
      { names: ['api-5xx'], insufficientData: 'ok' },
      runtime(),
      { initialMs: 1000, maxMs: 1000, jitter: 0 }
    )
    gate.watch()
    const result = await runRollout(
      ssm,
      {
        ...rolloutSettings({ maxConcurrency: { kind: 'count', value: 2 } }),
        instanceIds: hosts
      },
      runtime(),
      { shouldStop: () => gate.stopReason() }
    )
    await gate.stop()
    expect(gate.fired?.name).toBe('api-5xx')
    const seenAt = gate.fired!.seenAt
    expect(seenAt - start).toBeGreaterThanOrEqual(30_000)
    expect(fleet.commands.every((c) => c.sentAt < seenAt)).toBe(true)
    expect(fleet.batches()).toEqual([[hosts[0]], [hosts[1], hosts[2]]])
    expect(result.ok).toBe(false)
    expect(result.stoppedReason).toBe(
      'alarm "api-5xx" is in ALARM since 2026-01-01T00:00:30.000Z: Threshold Crossed: 1 datapoint [12.0] > 5.0'
    )
    expect(result.results.slice(3).map((r) => r.status)).toEqual(['Skipped', 'Skipped', 'Skipped'])
  })

  it('holds INSUFFICIENT_DATA as OK by default and as a failure with insufficient-data: fail', async () => {
    alarms({ quiet: 'INSUFFICIENT_DATA' })
    const ok = new AlarmGate(cloudwatch, { names: ['quiet'], insufficientData: 'ok' }, runtime())
    expect(await ok.check()).toBeUndefined()
    expect(ok.stopReason()).toBeUndefined()
    const fail = new AlarmGate(
      cloudwatch,
      { names: ['quiet'], insufficientData: 'fail' },
      runtime()
    )
    expect((await fail.check())?.state).toBe('INSUFFICIENT_DATA')
    expect(fail.stopReason()).toBe(
      'alarm "quiet" is in INSUFFICIENT_DATA since 2026-01-01T00:00:30.000Z'
    )
  })

  it('stops the rollout when the alarms cannot be read', async () => {
    cwMock
      .on(DescribeAlarmsCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDenied' }))
    const gate = new AlarmGate(
      cloudwatch,
      { names: ['api-5xx'], insufficientData: 'ok' },
      runtime()
    )
    gate.watch()
    await gate.stop()
    expect(gate.stopReason()).toMatch(
      /^the alarms could not be read: DescribeAlarms failed: AccessDenied: User is not authorized/
    )
  })
})

describe('bake', () => {
  it('waits the whole bake time when all is quiet, with a last look at the end', async () => {
    alarms({ 'api-5xx': 'OK' })
    const gate = new AlarmGate(
      cloudwatch,
      { names: ['api-5xx'], insufficientData: 'ok' },
      runtime()
    )
    const result = await bake({ after: 'after the canary', bakeMs: 300_000, gate }, runtime())
    expect(result).toEqual({ after: 'after the canary', bakeMs: 300_000, waitedMs: 300_000 })
    expect(cwMock.commandCalls(DescribeAlarmsCommand)).toHaveLength(2)
  })

  it('ends early with the reason when an alarm fires during it', async () => {
    const start = clock.now()
    alarms({ 'api-5xx': () => (clock.now() - start >= 60_000 ? 'ALARM' : 'OK') })
    const gate = new AlarmGate(
      cloudwatch,
      { names: ['api-5xx'], insufficientData: 'ok' },
      runtime(),
      { initialMs: 5000, maxMs: 5000, jitter: 0 }
    )
    // The bake's own sleep is one long one: the watch's look ends it through `alarmed`.
    const realSleep = clock.sleep.bind(clock)
    clock.sleep = (ms, signal) => realSleep(Math.min(ms, 5000), signal)
    gate.watch()
    const result = await bake({ after: 'after the last host', bakeMs: 600_000, gate }, runtime())
    await gate.stop()
    expect(result.stoppedBy).toMatch(/^alarm "api-5xx" is in ALARM/)
    expect(result.waitedMs).toBeLessThan(600_000)
  })

  it('ends early when a target turns unhealthy', async () => {
    let looks = 0
    const health = async () =>
      ++looks >= 3 ? 'i-1 is unhealthy in target group web (Target.Timeout)' : undefined
    const result = await bake(
      { after: 'after the canary', bakeMs: 120_000, health, healthEveryMs: 10_000 },
      runtime()
    )
    expect(result).toEqual({
      after: 'after the canary',
      bakeMs: 120_000,
      waitedMs: 20_000,
      stoppedBy: 'i-1 is unhealthy in target group web (Target.Timeout)'
    })
  })
})

describe('the alarms input', () => {
  it('takes one name a line (spaces and commas are part of a name) or a JSON array', () => {
    expect(parseAlarmNames('alarms', 'api 5xx, prod\nlatency\n\nlatency')).toEqual([
      'api 5xx, prod',
      'latency'
    ])
    expect(parseAlarmNames('alarms', '["a", "b"]')).toEqual(['a', 'b'])
    expect(() => parseAlarmNames('alarms', '["a", 1]')).toThrow(
      'Input "alarms": "[\\"a\\", 1]" is not a JSON array of strings.'
    )
  })
})

describe('afterCanary', () => {
  it('is awaited once the canary finished, before any other host starts; a reason stops the rollout', async () => {
    const hosts = SimulatedFleet.ids(4)
    const fleet = new SimulatedFleet(clock, hosts).mock(ssmMock)
    const held: number[] = []
    const result = await runRollout(
      ssm,
      { ...rolloutSettings({ maxConcurrency: { kind: 'count', value: 2 } }), instanceIds: hosts },
      runtime(),
      {
        afterCanary: async () => {
          held.push(fleet.commands.length)
          await clock.sleep(300_000)
          return 'alarm "api-5xx" is in ALARM'
        }
      }
    )
    expect(held).toEqual([1])
    expect(fleet.batches()).toEqual([[hosts[0]]])
    expect(result.stoppedReason).toBe('alarm "api-5xx" is in ALARM')
    expect(result.results.slice(1).map((r) => r.reason)).toEqual(
      Array(3).fill('not started: alarm "api-5xx" is in ALARM')
    )
  })
})
