import { beforeEach, describe, expect, it } from '@jest/globals'
import { CancelCommandCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { planWaves } from '../../src/rollout/plan.js'
import { Scheduler } from '../../src/rollout/scheduler.js'
import { StopPolicy } from '../../src/rollout/stop.js'
import { runRollout, type RolloutOptions } from '../../src/rollout/run.js'
import type { HostResult, Wave } from '../../src/rollout/types.js'
import type { HostStepFailure, Lifecycle } from '../../src/rollout/lifecycle.js'
import { makeRuntime } from '../../src/runtime.js'
import { rolloutSettings } from '../../support/fixtures.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { deployScriptOn } from '../helpers/rollout.js'
import { SimulatedFleet } from '../../support/ssm-fleet.js'
import { VirtualClock } from '../../support/virtual-clock.js'

const ids = (n: number) => Array.from({ length: n }, (_, i) => `h${i + 1}`)
const started = (s: Scheduler, running: number) =>
  s.next(running).map((x) => [x.wave.number, x.instanceIds])

describe('Scheduler: discrete waves', () => {
  const scheduler = () =>
    new Scheduler(planWaves(ids(5), { runOnce: false, canary: 1, maxConcurrency: 2 }))

  it('starts a whole wave only once nothing runs', () => {
    const s = scheduler()
    expect(started(s, 0)).toEqual([[1, ['h1']]])
    expect(started(s, 1)).toEqual([])
    expect(started(s, 0)).toEqual([[2, ['h2', 'h3']]])
    expect(started(s, 1)).toEqual([])
    expect(started(s, 0)).toEqual([[3, ['h4', 'h5']]])
    expect(s.hasMore()).toBe(false)
    expect(started(s, 0)).toEqual([])
    expect(s.until).toBe('all')
  })

  it('knows the wave each host was planned in', () => {
    expect(scheduler().waveOf('h4')?.number).toBe(3)
  })
})

describe('Scheduler: sliding window', () => {
  const scheduler = (n = 6) =>
    new Scheduler(
      planWaves(ids(n), { runOnce: false, canary: 1, maxConcurrency: 2, policy: 'window' })
    )

  it('plans the canary, then the rest as one window', () => {
    expect(scheduler().waves).toEqual([
      { number: 1, kind: 'canary', instanceIds: ['h1'] },
      { number: 2, kind: 'fleet', instanceIds: ['h2', 'h3', 'h4', 'h5', 'h6'], window: 2 }
    ])
  })

  it('opens the window after the canary, then starts a host as soon as a slot frees', () => {
    const s = scheduler()
    expect(s.until).toBe('any')
    expect(started(s, 0)).toEqual([[1, ['h1']]])
    expect(started(s, 1)).toEqual([]) // the canary is a gate
    expect(started(s, 0)).toEqual([[2, ['h2', 'h3']]])
    expect(started(s, 2)).toEqual([]) // both slots taken
    expect(started(s, 1)).toEqual([[2, ['h4']]])
    expect(started(s, 0)).toEqual([[2, ['h5', 'h6']]])
    expect(s.hasMore()).toBe(false)
  })

  it('never hands out more than the window, whatever it is told', () => {
    const s = new Scheduler(
      planWaves(ids(100), { runOnce: false, canary: 0, maxConcurrency: 8, policy: 'window' })
    )
    let running = 0
    let max = 0
    while (s.hasMore()) {
      for (const start of s.next(running)) running += start.instanceIds.length
      max = Math.max(max, running)
      running = Math.max(0, running - 3) // three finish
    }
    expect(max).toBe(8)
  })
})

describe('StopPolicy', () => {
  const wave = (kind: Wave['kind'], number = 1): Wave => ({ number, kind, instanceIds: [] })
  const host = (status: HostResult['status']): HostResult => ({ instanceId: 'i', status })
  const policy = (extra: Partial<ConstructorParameters<typeof StopPolicy>[0]> = {}) => {
    const clock = new VirtualClock()
    return new StopPolicy({
      maxErrors: 1,
      deadline: clock.now() + 60_000,
      deadlineMs: 60_000,
      clock,
      signal: new AbortController().signal,
      ...extra
    })
  }

  it('counts fleet failures across waves against max-errors', () => {
    const p = policy()
    p.record(wave('fleet', 2), [host('Failed'), host('Success')])
    expect(p.reason()).toBeUndefined()
    p.record(wave('fleet', 3), [host('ExecutionTimedOut')])
    expect(p.reason()).toBe('2 host(s) failed, more than max-errors (1)')
  })

  it('a failed gate stops whatever max-errors says; skipped hosts are no failures', () => {
    const p = policy({ maxErrors: 50 })
    p.record(wave('canary'), [host('Skipped')])
    expect(p.reason()).toBeUndefined()
    p.record(wave('canary'), [host('Failed')])
    expect(p.reason()).toBe('the canary failed')
    const q = policy({ maxErrors: 50 })
    q.record(wave('run-once'), [host('Failed')])
    expect(q.reason()).toBe('run-once failed on the primary')
  })

  it('the deadline, cancellation and the caller stop it, in that order', () => {
    const clock = new VirtualClock()
    const abort = new AbortController()
    const caller: { says?: string } = {}
    const p = policy({
      clock,
      deadline: clock.now() + 1_000,
      deadlineMs: 1_000,
      signal: abort.signal,
      shouldStop: () => caller.says
    })
    expect(p.reason()).toBeUndefined()
    caller.says = 'the snapshot failed'
    expect(p.reason()).toBe('the snapshot failed')
    abort.abort()
    expect(p.reason()).toBe('the rollout was cancelled')
    void clock.sleep(1_000)
    expect(p.reason()).toBe('the deadline (1s) passed')
  })
})

describe('rollout lifecycle steps and shouldStop', () => {
  const ssmMock = mockClient(SSMClient)
  const ssm = new SSMClient({ region: 'us-east-1' })
  let clock: VirtualClock
  beforeEach(() => {
    ;({ clock } = freshRun(ssmMock))
  })
  const options = deployScriptOn
  /** No canary: `n` hosts at a time, each freed slot refilled at once. */
  const slidingWindow = (n: number): Partial<RolloutOptions> => ({
    canary: 0,
    maxConcurrency: { kind: 'count', value: n },
    schedule: 'window'
  })
  /** The rollout of `hosts` with these `before` and `after` steps around each group's command. */
  const withSteps = (
    hosts: string[],
    extra: Partial<RolloutOptions>,
    lifecycle: Lifecycle,
    signal?: AbortSignal
  ) =>
    runRollout(
      ssm,
      options(hosts, extra),
      makeRuntime({ clock, log: new RecordingLog(), ...(signal ? { signal } : {}) }),
      { lifecycle }
    )

  it('awaits `before` before the send and `after` once the hosts finished', async () => {
    const hosts = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, hosts).mock(ssmMock)
    const events: string[] = []
    const t0 = clock.now()
    const result = await runRollout(ssm, options(hosts), makeRuntime({ clock }), {
      onCommandSent: (c) => events.push(`sent ${c.instanceIds.join(',')} at ${clock.now() - t0}`),
      lifecycle: {
        before: async (group) => {
          events.push(`before ${group.join(',')} at ${clock.now() - t0}`)
          await clock.sleep(30_000) // draining
          return []
        },
        after: async (results) => {
          events.push(`after ${results.map((r) => `${r.instanceId}:${r.status}`).join(',')}`)
          return []
        }
      }
    })
    expect(result.ok).toBe(true)
    const [a, b, c] = hosts
    // Each send came only once its `before` had finished draining (30 s later).
    expect(events[0]).toBe(`before ${a} at 0`)
    expect(events[1]).toBe(`sent ${a} at 30000`)
    expect(events[2]).toBe(`after ${a}:Success`)
    expect(events[3]).toMatch(new RegExp(`^before ${b},${c} at [\\d.]+$`))
    const beforeAt = Number(events[3]!.split(' at ')[1])
    expect(events[4]).toBe(`sent ${b},${c} at ${beforeAt + 30_000}`)
    expect(events[5]).toBe(`after ${b}:Success,${c}:Success`)
    expect(fleet.commands[1]!.sentAt - t0).toBe(beforeAt + 30_000)
  })

  it('a failing `after` fails the host, with its reason, and counts against max-errors', async () => {
    const hosts = SimulatedFleet.ids(5)
    const fleet = new SimulatedFleet(clock, hosts).mock(ssmMock)
    const seenBefore: string[] = []
    const seenAfter: string[] = []
    const result = await withSteps(
      hosts,
      { canary: 0, maxConcurrency: { kind: 'count', value: 2 } },
      {
        before: async (group) => (seenBefore.push(...group), []),
        after: async (results): Promise<HostStepFailure[]> => {
          seenAfter.push(...results.map((r) => r.instanceId))
          return results
            .filter((r) => r.instanceId === hosts[1])
            .map((r) => ({ instanceId: r.instanceId, reason: 'unhealthy in tg-web' }))
        }
      }
    )
    expect(result.results.map((r) => r.status)).toEqual([
      'Success',
      'Failed',
      'Skipped',
      'Skipped',
      'Skipped'
    ])
    expect(result.results[1]!.reason).toBe('after: unhealthy in tg-web')
    expect(result.results[1]!.exitCode).toBe(0)
    expect(result.stoppedReason).toBe('1 host(s) failed, more than max-errors (0)')
    expect(result.ok).toBe(false)
    expect(fleet.batches()).toEqual([hosts.slice(0, 2)])
    // Never started, never touched: the lifecycle saw exactly the hosts that started.
    expect(seenBefore).toEqual(hosts.slice(0, 2))
    expect(seenAfter).toEqual(hosts.slice(0, 2))
  })

  it('a host `before` fails runs no command, is failed, and still goes through `after`', async () => {
    const hosts = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, hosts).mock(ssmMock)
    const seenAfter: string[] = []
    const result = await withSteps(
      hosts,
      { canary: 0, maxErrors: { kind: 'count', value: 1 } },
      {
        before: async () => {
          throw new Error('DeregisterTargets failed: AccessDenied')
        },
        after: async (results) => (seenAfter.push(...results.map((r) => r.instanceId)), [])
      }
    )
    expect(fleet.batches()).toEqual([])
    expect(result.results.map((r) => [r.status, r.reason])).toEqual([
      ['Failed', 'before failed: DeregisterTargets failed: AccessDenied'],
      ['Failed', 'before failed: DeregisterTargets failed: AccessDenied'],
      ['Failed', 'before failed: DeregisterTargets failed: AccessDenied']
    ])
    expect(seenAfter).toEqual(hosts)
  })

  it('a host waiting for health blocks no other: a finished host is seen and a freed slot refilled', async () => {
    // h1 ends at 2 s, h2 at 10 s, window 2. h1's `after` (its health wait) lasts until h3 has
    // started, which can only happen once h2 was seen finished and went back: if `after` held
    // up the loop, h1 would wait for its real-time fallback and h3 would start after it.
    const hosts = SimulatedFleet.ids(3)
    const [h1, h2, h3] = hosts
    const durations = [2_000, 10_000, 2_000]
    new SimulatedFleet(
      clock,
      Object.fromEntries(hosts.map((id, i) => [id, { durationMs: durations[i]! }]))
    ).mock(ssmMock)
    const events: string[] = []
    const out = new Set<string>()
    let mostOut = 0
    let h3Started = (): void => undefined
    const h3Starts = new Promise<string>((resolve) => (h3Started = () => resolve('h3 started')))
    const fallback = new Promise<string>((resolve) => setTimeout(() => resolve('timed out'), 1_000))
    const result = await withSteps(hosts, slidingWindow(2), {
      before: async (group) => {
        for (const id of group) out.add(id)
        mostOut = Math.max(mostOut, out.size)
        events.push(`before ${group.join(',')}`)
        if (group.includes(h3!)) h3Started()
        return []
      },
      after: async (results) => {
        const group = results.map((r) => r.instanceId).join(',')
        events.push(`after ${group}`)
        if (group === h1) events.push(`${h1} healthy: ${await Promise.race([h3Starts, fallback])}`)
        for (const r of results) out.delete(r.instanceId)
        return []
      }
    })
    expect(result.ok).toBe(true)
    expect(events).toEqual([
      `before ${h1},${h2}`,
      `after ${h1}`,
      `after ${h2}`,
      `before ${h3}`,
      `${h1} healthy: h3 started`,
      `after ${h3}`
    ])
    // Hosts out of service held their slots: never more than max-concurrency out at once.
    expect(mostOut).toBe(2)
  })

  it('a host out of service holds its slot until it is back: the next host waits for its `after`', async () => {
    const hosts = SimulatedFleet.ids(3)
    new SimulatedFleet(clock, hosts).mock(ssmMock)
    const t0 = clock.now()
    const events: string[] = []
    const result = await withSteps(hosts, slidingWindow(1), {
      before: async (group) => (events.push(`before ${group} at ${clock.now() - t0}`), []),
      after: async (results) => {
        await clock.sleep(60_000) // the health checks
        events.push(`back ${results.map((r) => r.instanceId)} at ${clock.now() - t0}`)
        return []
      }
    })
    expect(result.ok).toBe(true)
    // Each host starts only once the one before it is back, never while it waits for health.
    const at = (e: string) => Number(e.split(' at ')[1])
    expect(events.map((e) => e.split(' at ')[0])).toEqual(
      hosts.flatMap((id) => [`before ${id}`, `back ${id}`])
    )
    for (let i = 1; i < events.length; i++)
      expect(at(events[i]!)).toBeGreaterThanOrEqual(at(events[i - 1]!))
  })

  it('a host still draining when the rollout is cancelled is never sent, and goes back through `after`', async () => {
    const hosts = SimulatedFleet.ids(3)
    const [h1, h2, h3] = hosts
    const fleet = new SimulatedFleet(clock, {
      [h1!]: { durationMs: 60_000 },
      [h2!]: { durationMs: 2_000 },
      [h3!]: { durationMs: 2_000 }
    }).mock(ssmMock)
    const abort = new AbortController()
    const seenAfter: string[] = []
    const result = await withSteps(
      hosts,
      slidingWindow(2),
      {
        before: async (group) => {
          if (!group.includes(h3!)) return []
          // h3 drains until the run is cancelled, then its step ends without a failure.
          clock.at(clock.now() + 5_000, () => abort.abort())
          await new Promise((resolve) => abort.signal.addEventListener('abort', resolve))
          return []
        },
        after: async (results) => (seenAfter.push(...results.map((r) => r.instanceId)), [])
      },
      abort.signal
    )
    expect(fleet.batches()).toEqual([[h1, h2]])
    expect(result.stoppedReason).toBe('the rollout was cancelled')
    expect(result.results.map((r) => [r.instanceId, r.status])).toEqual([
      [h1, 'Cancelled'],
      [h2, 'Success'],
      [h3, 'Skipped']
    ])
    expect(seenAfter.sort()).toEqual([...hosts].sort())
  })

  it('with steps of every length in flight, never more hosts out than max-concurrency', async () => {
    const hosts = SimulatedFleet.ids(20)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(hosts.map((id, i) => [id, { durationMs: 1_000 + ((i * 2_300) % 7_000) }]))
    ).mock(ssmMock)
    const out = new Set<string>()
    const before: string[] = []
    const after: string[] = []
    let mostOut = 0
    const wait = (ids: readonly string[], ms: number) =>
      clock.sleep((ms * (1 + (Number(ids[0]!.slice(-2)) % 4))) / 2)
    const result = await withSteps(
      hosts,
      { maxConcurrency: { kind: 'count', value: 3 }, schedule: 'window' },
      {
        before: async (group) => {
          for (const id of group) out.add(id)
          mostOut = Math.max(mostOut, out.size)
          before.push(...group)
          await wait(group, 3_000) // draining, 1.5 to 6 s
          return []
        },
        after: async (results) => {
          const ids = results.map((r) => r.instanceId)
          after.push(...ids)
          await wait(ids, 2_000) // health checks, 1 to 4 s
          for (const id of ids) out.delete(id)
          return []
        }
      }
    )
    expect(result.ok).toBe(true)
    expect(mostOut).toBe(3)
    expect(fleet.maxConcurrency()).toBeLessThanOrEqual(3)
    // Every host left and came back exactly once; none is left out.
    expect([...before].sort()).toEqual([...hosts].sort())
    expect([...after].sort()).toEqual([...hosts].sort())
    expect(out.size).toBe(0)
  })

  it('shouldStop stops new hosts like max-errors: running hosts finish, the rest are skipped', async () => {
    const hosts = SimulatedFleet.ids(5)
    const fleet = new SimulatedFleet(clock, hosts).mock(ssmMock)
    let snapshotFailed = false
    const result = await runRollout(
      ssm,
      options(hosts, { maxConcurrency: { kind: 'count', value: 2 } }),
      makeRuntime({ clock, log: new RecordingLog() }),
      {
        onPrimaryDone: () => {
          snapshotFailed = true
        },
        shouldStop: () => (snapshotFailed ? 'the snapshot failed' : undefined)
      }
    )
    expect(fleet.batches()).toEqual([[hosts[0]]])
    expect(result.stoppedReason).toBe('the snapshot failed')
    expect(result.results.slice(1).map((r) => r.reason)).toEqual(
      Array(4).fill('not started: the snapshot failed')
    )
    expect(result.ok).toBe(false)
  })
})

describe('rollout in a sliding window', () => {
  const ssmMock = mockClient(SSMClient)
  const ssm = new SSMClient({ region: 'us-east-1' })
  let clock: VirtualClock
  beforeEach(() => {
    ;({ clock } = freshRun(ssmMock))
  })
  const window = (hosts: string[], extra: Partial<RolloutOptions> = {}): RolloutOptions => ({
    ...rolloutSettings({
      script: ['./deploy.sh'],
      schedule: 'window',
      maxConcurrency: { kind: 'count', value: 4 },
      backoff: { jitter: 0 }, // the same polls every run
      ...extra
    }),
    instanceIds: hosts
  })
  /** 2 to 10 s, varied, the same every run. */
  const durations = (n: number) =>
    Array.from({ length: n }, (_, i) => 2_000 + ((i * 3_700) % 8_001))
  const mixedFleet = (n: number, options = {}) => {
    const hosts = SimulatedFleet.ids(n)
    const d = durations(n)
    const fleet = new SimulatedFleet(
      clock,
      Object.fromEntries(hosts.map((id, i) => [id, { durationMs: d[i]! }])),
      options
    ).mock(ssmMock)
    return { hosts, fleet, d }
  }

  it('keeps max-concurrency hosts running, starting one as soon as another finishes', async () => {
    const { hosts, fleet, d } = mixedFleet(30)
    const t0 = clock.now()
    const result = await runRollout(ssm, window(hosts), makeRuntime({ clock }))
    expect(result.ok).toBe(true)
    expect(result.results.map((r) => r.status)).toEqual(Array(30).fill('Success'))
    expect(fleet.maxConcurrency()).toBe(4)
    // Every host got exactly one command, the canary before everyone else.
    expect(fleet.batches().flat().sort()).toEqual([...hosts].sort())
    expect(fleet.batches()[0]).toEqual([hosts[0]])
    // Within 15% of greedy list scheduling (canary, then each host on the first free slot).
    const slots = [0, 0, 0, 0].map(() => d[0]!)
    for (const x of d.slice(1)) slots.sort((a, b) => a - b)[0]! += x
    const bound = Math.max(...slots)
    expect(clock.now() - t0).toBeLessThan(bound * 1.15)
    // Discrete waves of 4 wait for each wave's slowest host: measurably slower on the same fleet.
    ssmMock.reset()
    const waves = mixedFleet(30)
    const t1 = clock.now()
    await runRollout(ssm, window(waves.hosts, { schedule: 'waves' }), makeRuntime({ clock }))
    expect(clock.now() - t1).toBeGreaterThan(bound * 1.25)
  })

  it('stops starting hosts once failures exceed max-errors; running hosts finish', async () => {
    const { hosts, fleet } = mixedFleet(12)
    fleet.setHost(hosts[3]!, { outcome: 'Failed', durationMs: 2_000 })
    const result = await runRollout(
      ssm,
      window(hosts),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    const started = new Set(fleet.batches().flat())
    expect(result.stoppedReason).toBe('1 host(s) failed, more than max-errors (0)')
    expect(result.results[3]!.status).toBe('Failed')
    // Every host is reported: those that started finished; the rest never started, and why.
    expect(
      result.results.map((r) =>
        started.has(r.instanceId) ? r.status : `${r.status}: ${r.reason ?? ''}`
      )
    ).toEqual(
      hosts.map((id) =>
        started.has(id)
          ? id === hosts[3]
            ? 'Failed'
            : 'Success'
          : `Skipped: not started: ${result.stoppedReason}`
      )
    )
    expect(started.size).toBeLessThan(12)
    // Nothing was sent after the failure was seen.
    const failedAt = fleet.commands.find((c) => c.instanceIds.includes(hosts[3]!))!.sentAt + 2_000
    const after = fleet.commands.filter((c) => c.sentAt > failedAt + 2_500)
    expect(after).toEqual([])
  })

  it('cancellation reaches every command still running, and the post step saw each one', async () => {
    const { hosts, fleet } = mixedFleet(20)
    const abort = new AbortController()
    const sent: string[] = []
    clock.at(clock.now() + 12_000, () => abort.abort())
    const result = await runRollout(
      ssm,
      window(hosts),
      makeRuntime({ clock, signal: abort.signal, log: new RecordingLog() }),
      { onCommandSent: (c) => sent.push(c.commandId) }
    )
    expect(sent).toEqual(fleet.commands.map((c) => c.id))
    const cancelled = ssmMock
      .commandCalls(CancelCommandCommand)
      .map((c) => c.args[0].input.CommandId)
    const running = result.results.filter((r) => r.status === 'Cancelled')
    expect(running.length).toBeGreaterThan(0)
    expect(cancelled).toEqual(expect.arrayContaining(running.map((r) => r.commandId)))
    expect(result.stoppedReason).toBe('the rollout was cancelled')
    expect(result.results.filter((r) => r.status === 'Skipped').length).toBeGreaterThan(0)
  })

  it('is the default: dry run shows the canary, then one window', async () => {
    const { hosts } = mixedFleet(5)
    const result = await runRollout(
      ssm,
      { ...window(hosts, { dryRun: true }), schedule: undefined },
      makeRuntime({ clock })
    )
    expect(result.waves).toEqual([
      { number: 1, kind: 'canary', instanceIds: [hosts[0]] },
      { number: 2, kind: 'fleet', instanceIds: hosts.slice(1), window: 4 }
    ])
  })

  it('SSM calls per host stay bounded as the fleet grows', async () => {
    const perHost = async (n: number): Promise<number> => {
      ssmMock.reset()
      const { hosts, fleet } = mixedFleet(n, { visibilityDelayMs: 1_000 })
      const result = await runRollout(
        ssm,
        window(hosts, { maxConcurrency: { kind: 'count', value: 20 } }),
        makeRuntime({ clock })
      )
      expect(result.ok).toBe(true)
      expect(fleet.calls['SendCommand']).toBeLessThanOrEqual(n)
      expect(fleet.calls['ListCommandInvocations']).toBeLessThanOrEqual(n + 1)
      return Object.values(fleet.calls).reduce((a, b) => a + b, 0) / n
    }
    const small = await perHost(60)
    const large = await perHost(600)
    // Polls are shared by all running hosts; sends and result reads are at most one per host.
    expect(large).toBeLessThanOrEqual(small * 1.25)
    expect(large).toBeLessThan(6)
  })
})
