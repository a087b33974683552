/**
 * traffic: a rolling deploy behind a target group against its lower bound. The emulator's
 * ELBv2 drains each deregistered host for the deregistration delay and holds it `initial` for
 * interval x healthy threshold once registered again, both scaled by TIME_SCALE, on the real
 * clock; a simulated SSM fleet runs commands of mixed durations (2 to 10 s), each starting
 * DELIVERY_MS after SendCommand. The rollout and its traffic steps poll at the production pace.
 *
 * The bound: the canary (the primary) alone, then each later host, in host order, on the
 * slot that frees first, with max-out-of-service slots (min-healthy and max-concurrency), each
 * host holding its slot for drain + delivery + its command + the health checks.
 * Target: wall time within 1.10 of the bound; ELBv2 calls per host bounded. BENCH_VERBOSE=1
 * prints where each host's time went beyond its share of the bound.
 */
import type { CountOrPercent } from '../src/model/fleet.js'
import type { Backoff } from '../src/poll.js'
import type { HostTraffic } from '../src/traffic/rollout.js'
import { behindTargetGroups, testClients } from '../support/emulator/world.js'
import { rollOutBehindTargetGroups } from '../support/traffic-fleet.js'
import { median, printTable, withEmulator } from './lib.js'
import { mixedDurations, slidingWindowBound } from './rollout.js'

const RUNS = Number(process.env['BENCH_RUNS'] ?? 1)
const TIME_SCALE = Number(process.env['BENCH_TRAFFIC_SCALE'] ?? 0.01)
const DELIVERY_MS = 300
/** AWS's default deregistration delay; health checks every 30 s, 3 to pass. */
const TARGET_GROUP = { deregistrationDelaySeconds: 300, intervalSeconds: 30, healthyThreshold: 3 }
const DRAIN_MS = TARGET_GROUP.deregistrationDelaySeconds * 1000 * TIME_SCALE
const HEALTH_MS = TARGET_GROUP.intervalSeconds * TARGET_GROUP.healthyThreshold * 1000 * TIME_SCALE

interface Shape {
  hosts: number
  minHealthy: CountOrPercent
  label: string
}

const SHAPES: Shape[] = [
  { hosts: 6, minHealthy: { kind: 'percent', value: 66 }, label: '66%' },
  { hosts: 12, minHealthy: { kind: 'percent', value: 75 }, label: '75%' }
]

interface Sample {
  wallMs: number
  boundMs: number
  maxOut: number
  elbCallsPerHost: number
  calls: Record<string, number>
}

/**
 * The production polling pace, and one ten times quicker: the emulator scales ELB's times
 * down a hundredfold but not the pace, so part of the gap is poll lag that AWS's real
 * durations (minutes) would dwarf; the quick pace shows what is left of the scheduling.
 */
const PACES: Record<string, Partial<Backoff> | undefined> = {
  production: undefined,
  'quick (1/10)': { initialMs: 25, maxMs: 200 }
}

async function once(endpoint: string, shape: Shape, pace: string): Promise<Sample> {
  const c = testClients(endpoint)
  const world = await behindTargetGroups(c, {
    size: shape.hosts,
    targetGroups: [{ name: 'web', ...TARGET_GROUP, timeScale: TIME_SCALE }]
  })
  const durations = mixedDurations(shape.hosts)
  const run = await rollOutBehindTargetGroups(c, world, {
    durationsMs: durations,
    minHealthy: shape.minHealthy,
    deliveryDelayMs: DELIVERY_MS,
    ...(PACES[pace] ? { backoff: PACES[pace] } : {})
  })
  if (!run.result.ok) {
    const why = run.result.results.map((r) => `${r.instanceId} ${r.status} ${r.reason ?? ''}`)
    throw new Error(`bench rollout failed: ${run.result.stoppedReason}\n${why.join('\n')}`)
  }
  if (process.env['BENCH_VERBOSE']) explain(run.traffic.hosts, durations, run.hosts)
  const maxOut = run.plan.capacity!.maxOutOfService
  const perHost = durations.map((d) => DRAIN_MS + d + HEALTH_MS)
  const total = Object.values(run.elbCalls).reduce((a, b) => a + b, 0)
  return {
    wallMs: run.wallMs,
    boundMs: slidingWindowBound(perHost, maxOut, DELIVERY_MS),
    maxOut,
    elbCallsPerHost: total / shape.hosts,
    calls: run.elbCalls
  }
}

/** Where each host's time went beyond the bound's share (BENCH_VERBOSE=1). */
function explain(
  timings: Map<string, HostTraffic>,
  durations: readonly number[],
  hosts: ReadonlyArray<{ instanceId: string }>
): void {
  hosts.forEach(({ instanceId }, i) => {
    const t = timings.get(instanceId)!
    const command = t.outOfServiceMs - t.drainMs - t.healthWaitMs
    console.log(
      `${instanceId}: drain +${Math.round(t.drainMs - DRAIN_MS)} ms, command and its detection +${Math.round(command - durations[i]! - DELIVERY_MS)} ms, health +${Math.round(t.healthWaitMs - HEALTH_MS)} ms`
    )
  })
}

export async function run(): Promise<void> {
  console.log(
    `\n## traffic: ${RUNS} run(s) per shape; drain ${DRAIN_MS / 1000} s, health checks ${HEALTH_MS / 1000} s (300 s and 30 s x 3 at time scale ${TIME_SCALE}), commands 2-10 s, delivery ${DELIVERY_MS / 1000} s, canary 1, sliding window, real clock\n`
  )
  const rows: string[][] = []
  await withEmulator(async (emulator) => {
    for (const [shape, pace] of SHAPES.flatMap((s) =>
      Object.keys(PACES).map((p) => [s, p] as const)
    )) {
      const samples: Sample[] = []
      for (let i = 0; i < RUNS; i++) {
        await emulator.reset()
        samples.push(await once(emulator.endpoint, shape, pace))
      }
      const s = samples[0]!
      const wall = median(samples.map((x) => x.wallMs))
      const calls = Object.entries(s.calls)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([api, n]) => `${api} ${(n / shape.hosts).toFixed(1)}`)
        .join(', ')
      rows.push([
        String(shape.hosts),
        shape.label,
        String(s.maxOut),
        pace,
        (wall / 1000).toFixed(1),
        (s.boundMs / 1000).toFixed(1),
        (wall / s.boundMs).toFixed(2),
        (Math.max(...samples.map((x) => x.wallMs)) / s.boundMs).toFixed(2),
        median(samples.map((x) => x.elbCallsPerHost)).toFixed(1),
        calls
      ])
    }
  })
  printTable(
    [
      'hosts',
      'min-healthy',
      'out at once',
      'polling pace',
      'wall s (median)',
      'bound s',
      'ratio (median)',
      'ratio (max)',
      'ELBv2 calls per host',
      'per host, by API'
    ],
    rows
  )
}
