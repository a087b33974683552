/**
 * A rollout behind a target group for the benchmark and the demo: the emulator's ELBv2 drains,
 * holds new targets `initial` and reports health on the real clock (scaled by the target
 * group's emulator:time-scale tag), while a simulated SSM fleet runs each host's commands for
 * its own duration. The traffic steps and the rollout are the project's own (src/traffic,
 * src/rollout); every ELBv2 call they make is counted.
 */
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { realClock } from '../src/clock.js'
import type { Host } from '../src/hosts/host.js'
import { resolveHosts } from '../src/hosts/resolve.js'
import type { CountOrPercent } from '../src/model/fleet.js'
import type { Log } from '../src/log.js'
import type { Backoff } from '../src/poll.js'
import type { HostStepFailure, Lifecycle } from '../src/rollout/lifecycle.js'
import type { SchedulePolicy } from '../src/rollout/plan.js'
import { type RolloutHooks, runRollout } from '../src/rollout/run.js'
import type { RolloutResult } from '../src/rollout/types.js'
import { makeRuntime } from '../src/runtime.js'
import { planTraffic, type TrafficPlan } from '../src/traffic/plan.js'
import { limitRollout, trafficRollout, type TrafficRollout } from '../src/traffic/rollout.js'
import type { TrafficOptions } from '../src/traffic/service.js'
import type { TargetGroupWorld, TestClients } from './emulator/world.js'
import { rolloutSettings } from './fixtures.js'
import { SimulatedFleet } from './ssm-fleet.js'

export interface TrafficFleetOptions {
  /** Each host's command duration, in host order (the primary first). */
  durationsMs: readonly number[]
  minHealthy: CountOrPercent
  maxConcurrency?: CountOrPercent
  /** Unset: the default, a sliding window after the canary. */
  schedule?: SchedulePolicy
  /** SSM starts a command on a host this long after SendCommand. */
  deliveryDelayMs?: number
  /** The polling pace of the rollout and the traffic waits; unset: the production default. */
  backoff?: Partial<Backoff>
  log?: Log
  onLeave?: TrafficOptions['onLeave']
  onReturn?: TrafficOptions['onReturn']
  hooks?: Omit<RolloutHooks, 'lifecycle'>
  /** Told as each lifecycle step begins and ends, with its hosts (the demo's timeline). */
  onStep?: (event: StepEvent) => void
}

export type StepEvent =
  | { step: 'before' | 'after'; phase: 'begin'; instanceIds: string[] }
  | { step: 'before' | 'after'; phase: 'end'; instanceIds: string[]; failed: HostStepFailure[] }

/** `lifecycle` telling `onStep` as each step begins and ends. */
export function observedLifecycle(
  lifecycle: Lifecycle,
  onStep: (event: StepEvent) => void
): Lifecycle {
  return {
    before: async (ids, runtime) => {
      onStep({ step: 'before', phase: 'begin', instanceIds: [...ids] })
      const failed = [...((await lifecycle.before?.(ids, runtime)) ?? [])]
      onStep({ step: 'before', phase: 'end', instanceIds: [...ids], failed })
      return failed
    },
    after: async (results, runtime) => {
      const ids = results.map((r) => r.instanceId)
      onStep({ step: 'after', phase: 'begin', instanceIds: ids })
      const failed = [...((await lifecycle.after?.(results, runtime)) ?? [])]
      onStep({ step: 'after', phase: 'end', instanceIds: ids, failed })
      return failed
    }
  }
}

export interface TrafficFleetRun {
  hosts: Host[]
  plan: TrafficPlan
  traffic: TrafficRollout
  result: RolloutResult
  fleet: SimulatedFleet
  /** ELBv2 calls the rollout made (planning excluded), by API name. */
  elbCalls: Record<string, number>
  wallMs: number
}

/** An ELBv2 client on `c`'s endpoint that counts its calls by API name into `calls`. */
export function countingElbv2(
  c: TestClients,
  calls: Record<string, number>
): ElasticLoadBalancingV2Client {
  const { region, endpoint, credentials, maxAttempts } = c.elbv2.config
  const client = new ElasticLoadBalancingV2Client({ region, endpoint, credentials, maxAttempts })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = String(context.commandName ?? '?').replace(/Command$/, '')
      calls[name] = (calls[name] ?? 0) + 1
      return next(args)
    },
    { step: 'initialize', name: 'countCalls' }
  )
  return client
}

/** Rolls out to every member of `world`'s group, behind its target groups, on the real clock. */
export async function rollOutBehindTargetGroups(
  c: TestClients,
  world: TargetGroupWorld,
  options: TrafficFleetOptions
): Promise<TrafficFleetRun> {
  const runtime = makeRuntime(options.log ? { log: options.log } : {})
  const { hosts } = await resolveHosts(c, {
    tags: new Map(),
    states: ['running'],
    asgNames: [world.asgName]
  })
  const maxConcurrency = options.maxConcurrency ?? { kind: 'percent', value: 100 }
  const plan = await planTraffic(
    c,
    hosts,
    { targetGroups: { auto: true, given: [] }, minHealthy: options.minHealthy },
    { maxConcurrency, log: runtime.log }
  )
  const elbCalls: Record<string, number> = {}
  const traffic = trafficRollout(countingElbv2(c, elbCalls), plan, hosts, runtime, {
    ...(options.onLeave ? { onLeave: options.onLeave } : {}),
    ...(options.onReturn ? { onReturn: options.onReturn } : {}),
    ...(options.backoff ? { backoff: options.backoff } : {})
  })
  if (!traffic) throw new Error(`${world.asgName} has no target group`)
  const ids = hosts.map((h) => h.instanceId)
  const fleet = new SimulatedFleet(
    realClock,
    Object.fromEntries(ids.map((id, i) => [id, { durationMs: options.durationsMs[i] ?? 5_000 }])),
    { deliveryDelayMs: options.deliveryDelayMs ?? 0 }
  )
  const settings = limitRollout(
    rolloutSettings({
      comment: 'traffic',
      maxConcurrency,
      ...(options.schedule ? { schedule: options.schedule } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {})
    }),
    plan
  )
  const started = Date.now()
  const result = await runRollout(fleet.client(), { ...settings, instanceIds: ids }, runtime, {
    ...options.hooks,
    lifecycle: options.onStep
      ? observedLifecycle(traffic.lifecycle, options.onStep)
      : traffic.lifecycle
  })
  return { hosts, plan, traffic, result, fleet, elbCalls, wallMs: Date.now() - started }
}
