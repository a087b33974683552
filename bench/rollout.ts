/**
 * rollout, two tables.
 * 1. SSM API calls and reporting lag for simulated fleets of 10, 100 and 1,000 hosts whose
 *    commands take a fixed time. The fleet answers over the SDK's HTTP layer (real
 *    serialisation, retries and clock), so every call the action makes is counted.
 *    Targets: lag (last host done -> rollout reported) at most 2 s median; ListCommands calls
 *    per poll independent of the fleet size; total calls for 1,000 hosts within 1.5x of the
 *    minimum.
 * 2. Mixed durations (2 to 10 s) at a max-concurrency below the fleet size, 40 and 1,000 hosts,
 *    each scheduling policy against the sliding-window bound: the canary, then greedy list
 *    scheduling of the rest in host order, each host paying the emulated delivery delay.
 *    On a virtual clock (the SDK still serialises every call), so a run of minutes takes
 *    seconds and the figures are the scheduling's, not this machine's load.
 *    Target: the window within 1.10 of the bound at both sizes; SSM calls per host bounded.
 */
import { realClock, type Clock } from '../src/clock.js'
import { runRollout } from '../src/rollout/run.js'
import { makeRuntime } from '../src/runtime.js'
import { rolloutSettings } from '../support/fixtures.js'
import { SimulatedFleet } from '../support/ssm-fleet.js'
import { VirtualClock } from '../support/virtual-clock.js'
import type { SchedulePolicy } from '../src/rollout/plan.js'
import { median, printTable } from './lib.js'

const COMMAND_MS = Number(process.env['BENCH_COMMAND_MS'] ?? 5_000)
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3)
const SIZES = [10, 100, 1000]
const batches = (n: number) => Math.ceil(n / 50)

/**
 * The fewest calls the API allows for n hosts with a canary of 1: the agent check, one
 * SendCommand and one result page per 50 hosts of each wave, and one status look per wave.
 */
export function minimumCalls(n: number): number {
  const waves = n > 1 ? 2 : 1
  return batches(n) + 2 * (1 + batches(n - 1)) + waves
}

interface Sample {
  calls: Record<string, number>
  total: number
  polls: number
  lagMs: number
}

async function once(n: number): Promise<Sample> {
  let sleeps = 0
  const clock: Clock = { now: realClock.now, sleep: (ms, s) => (sleeps++, realClock.sleep(ms, s)) }
  const fleet = new SimulatedFleet(
    realClock,
    Object.fromEntries(SimulatedFleet.ids(n).map((id) => [id, { durationMs: COMMAND_MS }]))
  )
  const result = await runRollout(
    fleet.client(),
    { ...rolloutSettings({ comment: 'bench' }), instanceIds: SimulatedFleet.ids(n) },
    makeRuntime({ clock })
  )
  const reportedAt = Date.now()
  if (!result.ok) throw new Error(`bench rollout of ${n} hosts failed: ${result.stoppedReason}`)
  const total = Object.values(fleet.calls).reduce((a, b) => a + b, 0)
  // Each wave polls once more than it sleeps.
  return {
    calls: { ...fleet.calls },
    total,
    polls: sleeps + result.waves.length,
    lagMs: reportedAt - fleet.lastFinish()
  }
}

export async function run(): Promise<void> {
  await runFixed()
  await runMixed()
}

async function runFixed(): Promise<void> {
  console.log(
    `\n## rollout: ${RUNS} run(s) per size, commands take ${COMMAND_MS / 1000} s, canary 1, then 100%\n`
  )
  const rows: string[][] = []
  for (const n of SIZES) {
    const samples: Sample[] = []
    for (let i = 0; i < RUNS; i++) samples.push(await once(n))
    const s = samples[0]!
    const min = minimumCalls(n)
    const totals = samples.map((x) => x.total)
    rows.push([
      String(n),
      String(s.calls['SendCommand']),
      String(s.calls['DescribeInstanceInformation']),
      String(s.calls['ListCommandInvocations']),
      (s.calls['ListCommands']! / s.polls).toFixed(2),
      String(median(totals)),
      String(min),
      (median(totals) / min).toFixed(2),
      String(Math.round(median(samples.map((x) => x.lagMs)))),
      String(Math.round(Math.max(...samples.map((x) => x.lagMs))))
    ])
  }
  printTable(
    [
      'hosts',
      'SendCommand',
      'DescribeInstanceInformation',
      'ListCommandInvocations',
      'ListCommands per poll',
      'total calls (median)',
      'minimum',
      'ratio',
      'lag median ms',
      'lag max ms'
    ],
    rows
  )
}

const DELIVERY_MS = 1_000
const MIXED: Array<{ hosts: number; maxConcurrency: number }> = [
  { hosts: 40, maxConcurrency: 8 },
  { hosts: 1000, maxConcurrency: 100 }
]

/** Durations from 2 to 10 s, the same for every run of a size (a seeded generator). */
export function mixedDurations(n: number, seed = 42): number[] {
  let state = seed
  const next = (): number => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31
    return state / 2 ** 31
  }
  return Array.from({ length: n }, () => 2_000 + Math.round(next() * 80) * 100)
}

/**
 * The sliding-window bound: the canary (the primary) alone, then each later host, in host
 * order, on the slot that frees first, every host paying the delivery delay.
 */
export function slidingWindowBound(
  durations: readonly number[],
  maxConcurrency: number,
  deliveryMs: number,
  canary = 1
): number {
  const canaryEnd = canary ? deliveryMs + Math.max(...durations.slice(0, canary)) : 0
  const slots: number[] = Array.from({ length: maxConcurrency }, () => canaryEnd)
  let end = canaryEnd
  for (const d of durations.slice(canary)) {
    const i = slots.indexOf(Math.min(...slots))
    slots[i] = slots[i]! + deliveryMs + d
    end = Math.max(end, slots[i]!)
  }
  return end
}

async function mixedOnce(
  n: number,
  maxConcurrency: number,
  policy: SchedulePolicy
): Promise<{ ms: number; calls: number; maxRunning: number }> {
  const clock = new VirtualClock()
  const ids = SimulatedFleet.ids(n)
  const durations = mixedDurations(n)
  const fleet = new SimulatedFleet(
    clock,
    Object.fromEntries(ids.map((id, i) => [id, { durationMs: durations[i]! }])),
    { deliveryDelayMs: DELIVERY_MS }
  )
  const start = clock.now()
  const result = await runRollout(
    fleet.client(),
    {
      ...rolloutSettings({
        comment: 'bench',
        maxConcurrency: { kind: 'count', value: maxConcurrency },
        schedule: policy
      }),
      instanceIds: ids
    },
    makeRuntime({ clock })
  )
  if (!result.ok) throw new Error(`bench rollout of ${n} hosts failed: ${result.stoppedReason}`)
  const calls = Object.values(fleet.calls).reduce((a, b) => a + b, 0)
  return { ms: clock.now() - start, calls, maxRunning: fleet.maxConcurrency() }
}

export async function runMixed(): Promise<void> {
  console.log(
    `\n## rollout: ${RUNS} run(s) each, mixed durations (2-10 s), delivery ${DELIVERY_MS / 1000} s, canary 1, virtual clock\n`
  )
  const rows: string[][] = []
  for (const { hosts, maxConcurrency } of MIXED) {
    const bound = slidingWindowBound(mixedDurations(hosts), maxConcurrency, DELIVERY_MS)
    for (const policy of ['waves', 'window'] as const) {
      const runs: Array<{ ms: number; calls: number; maxRunning: number }> = []
      for (let i = 0; i < RUNS; i++) runs.push(await mixedOnce(hosts, maxConcurrency, policy))
      const ms = median(runs.map((r) => r.ms))
      rows.push([
        String(hosts),
        String(maxConcurrency),
        policy,
        (ms / 1000).toFixed(1),
        (bound / 1000).toFixed(1),
        (ms / bound).toFixed(2),
        (Math.max(...runs.map((r) => r.ms)) / bound).toFixed(2),
        String(Math.max(...runs.map((r) => r.maxRunning))),
        (median(runs.map((r) => r.calls)) / hosts).toFixed(2)
      ])
    }
  }
  printTable(
    [
      'hosts',
      'max-concurrency',
      'policy',
      'elapsed s (median)',
      'bound s',
      'ratio (median)',
      'ratio (max)',
      'most running',
      'SSM calls per host'
    ],
    rows
  )
}
