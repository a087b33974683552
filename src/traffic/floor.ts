/**
 * min-healthy held at each leave, as the load balancer sees it then: a host healthy in a target
 * group may leave only while that group keeps its floor of healthy targets without it. The plan
 * caps how many hosts are out at once; this is what keeps the floor when targets that served
 * nothing before the deploy (deployed first with unhealthy-first) did not recover, or others
 * fell ill meanwhile. A leave that would go below waits for them (lookUntilFloorsKept).
 */
import type {
  ElasticLoadBalancingV2Client,
  TargetHealthDescription
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { formatDuration } from '../duration.js'
import { type Backoff, poll, PollTimeoutError } from '../poll.js'
import type { Runtime } from '../runtime.js'
import type { GroupFloor } from './capacity.js'
import { describeHealth } from './targets.js'
import type { TargetGroup } from './types.js'

/** Each target group's health as read for one leave, and the hosts it refuses. */
export interface FloorLook {
  seen: Array<{ tg: TargetGroup; descriptions: TargetHealthDescription[] }>
  refused: Map<string, string>
}

interface FloorOptions {
  targetGroups: readonly TargetGroup[]
  floors?: readonly GroupFloor[]
  healthTimeoutMs: number
  backoff?: Partial<Backoff>
  /** Whether other hosts of this rollout are out of service now (their return frees capacity). */
  othersOut?: () => boolean
}

/**
 * Every target group's health, and the hosts whose leave would take one below its floor.
 * A host refused waits for targets to recover (one that returned moments ago may still be in
 * `initial`): up to health-timeout, and longer while other hosts of this rollout are out of
 * service, since their return gives the capacity back (the rollout then runs fewer at once).
 * Only then is it refused.
 */
export async function lookUntilFloorsKept(
  elbv2: ElasticLoadBalancingV2Client,
  options: FloorOptions,
  runtime: Runtime,
  ids: readonly string[]
): Promise<FloorLook> {
  const look = async (): Promise<FloorLook> => {
    const seen: FloorLook['seen'] = []
    for (const tg of options.targetGroups)
      seen.push({ tg, descriptions: await describeHealth(elbv2, tg.arn) })
    return { seen, refused: refusals(options.floors, seen, ids) }
  }
  let last = await look()
  if (!last.refused.size) return last
  const { healthTimeoutMs } = options
  const waiting = [...last.refused.keys()].join(', ')
  runtime.log.info(
    `Waiting for healthy targets, so that ${waiting} can leave and keep min-healthy: up to ${formatDuration(healthTimeoutMs)}, longer while other hosts of this rollout are out of service.`
  )
  const started = runtime.clock.now()
  // Once the others are back (registered, maybe still `initial`), one more health-timeout.
  let more = false
  for (;;) {
    const kept = await pollFloors(options, runtime, `${waiting} leave`, async () => {
      last = await look()
      return last.refused.size === 0
    })
    if (kept) return last
    const out = options.othersOut?.() ?? false
    if (!out && !more) break
    more = out
  }
  const waited = ` (waited ${formatDuration(runtime.clock.now() - started)}: health-timeout, with no other host of this rollout out of service)`
  for (const [id, reason] of last.refused) last.refused.set(id, reason + waited)
  return last
}

/** True once `kept` answers true; false when health-timeout passed first. */
async function pollFloors(
  options: FloorOptions,
  runtime: Runtime,
  what: string,
  kept: () => Promise<boolean>
): Promise<boolean> {
  try {
    await poll({
      label: `healthy targets to keep min-healthy while ${what}`,
      timeoutMs: options.healthTimeoutMs,
      signal: runtime.signal,
      clock: runtime.clock,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      check: async () => ((await kept()) ? { done: true, value: undefined } : { done: false })
    })
    return true
  } catch (err) {
    if (!(err instanceof PollTimeoutError)) throw err
    return false
  }
}

/** Hosts whose leave would take a target group below its min-healthy floor now. */
function refusals(
  floors: readonly GroupFloor[] | undefined,
  seen: FloorLook['seen'],
  ids: readonly string[]
): Map<string, string> {
  if (!floors?.length) return new Map()
  const withFloors = seen.flatMap(({ tg, descriptions }) => {
    const floor = floors.find((f) => f.arn === tg.arn)
    return floor ? [{ floor, descriptions }] : []
  })
  return belowFloor(withFloors, ids)
}

/** Host -> why it may not leave now; hosts absent may leave. */
export function belowFloor(
  seen: ReadonlyArray<{ floor: GroupFloor; descriptions: readonly TargetHealthDescription[] }>,
  leaving: readonly string[]
): Map<string, string> {
  const refused = new Map<string, string>()
  for (const { floor, descriptions } of seen) {
    const healthy = new Set(
      descriptions.filter((d) => d.TargetHealth?.State === 'healthy').map((d) => d.Target?.Id)
    )
    let left = healthy.size
    for (const id of leaving) {
      if (!healthy.has(id) || refused.has(id)) continue
      if (left - 1 >= floor.minHealthy) {
        left--
        continue
      }
      refused.set(
        id,
        `not taken out of target group ${floor.name}: ${healthy.size} of its ${floor.targets} target(s) are healthy now, and min-healthy keeps ${floor.minHealthy}; the targets that served nothing before the deploy did not recover, or others fell ill`
      )
    }
  }
  return refused
}
