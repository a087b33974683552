/**
 * rollout: SSM API calls and reporting lag for simulated fleets of 10, 100 and 1,000 hosts
 * whose commands take a fixed time. The fleet answers over the SDK's HTTP layer (real
 * serialisation, retries and clock), so every call the action makes is counted.
 *
 * Targets: lag (last host done -> rollout reported) at most 2 s median; ListCommands calls per
 * poll independent of the fleet size; total calls for 1,000 hosts within 1.5x of the minimum.
 */
import { realClock, type Clock } from '../src/clock.js'
import { runRollout } from '../src/rollout/run.js'
import { makeRuntime } from '../src/runtime.js'
import { rolloutSettings } from '../support/fixtures.js'
import { SimulatedFleet } from '../support/ssm-fleet.js'
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
