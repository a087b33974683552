/**
 * How many hosts may be out of service at once: `min-healthy` stay in, `max-concurrency` caps
 * the rest. Percentages of min-healthy round up (the safe side, as CodeDeploy's do).
 */
import { setting, SettingError } from '../errors.js'
import { type CountOrPercent, resolveCountOrPercent } from '../model/fleet.js'
import { describeNotServing, type GroupHealth } from './health.js'

/** The default margin: at least two thirds of the hosts in service. */
export const DEFAULT_MIN_HEALTHY: CountOrPercent = { kind: 'percent', value: 200 / 3 }

export interface Capacity {
  /** Hosts in service before the deploy (those in Standby are not). */
  inService: number
  /** The least number of them that stay in service at every moment. */
  minHealthy: number
  /** The most that may be out of service at once. */
  maxOutOfService: number
}

export function minHealthyCount(v: CountOrPercent, inService: number): number {
  // The epsilon keeps 66.666...% of 3 at 2 despite floating point.
  const n = v.kind === 'count' ? v.value : Math.ceil((v.value * inService) / 100 - 1e-9)
  return Math.min(n, inService)
}

/**
 * The capacity for `inService` hosts, or an SettingError naming minHealthy when it leaves no host
 * free to leave service (raised before anything changes).
 */
export function capacity(
  inService: number,
  minHealthy: CountOrPercent | undefined,
  maxConcurrency: CountOrPercent
): Capacity {
  const floor = minHealthyCount(minHealthy ?? DEFAULT_MIN_HEALTHY, inService)
  if (inService === 0) return { inService, minHealthy: 0, maxOutOfService: 0 }
  const free = inService - floor
  if (free < 1) throw tooSmall(inService, floor, minHealthy)
  const concurrency = Math.max(1, resolveCountOrPercent(maxConcurrency, inService))
  return { inService, minHealthy: floor, maxOutOfService: Math.min(concurrency, free) }
}

function tooSmall(
  inService: number,
  floor: number,
  minHealthy: CountOrPercent | undefined
): SettingError {
  const given = minHealthy
    ? `${JSON.stringify(minHealthy.kind === 'count' ? `${minHealthy.value}` : `${minHealthy.value}%`)} keeps`
    : 'is not set, and its default (two thirds of the hosts, rounded up) keeps'
  const what = `${given} ${floor} of the ${inService} host(s) in service, so none can leave the load balancer to deploy.`
  const fix =
    inService === 1
      ? `One host cannot stay in service while it deploys: set ${setting('minHealthy')} to 0 to accept that it is out of service during the deploy.`
      : `Set ${setting('minHealthy')} to ${inService - 1} or less (e.g. "${inService - 1}") to deploy while ${inService - 1} stay in service, or to 0 to accept that every host may be out at once.`
  return new SettingError('minHealthy', `${what} ${fix}`)
}

/** The load balancer's side of the capacity: per target group, its floor and who serves. */
export interface GroupFloor {
  arn: string
  name: string
  /** Targets counted (every one, not only the deploy's hosts). */
  targets: number
  healthy: number
  /** The least number of healthy targets kept at every moment. */
  minHealthy: number
}

/**
 * Capacity as the load balancer sees it: in each target group, min-healthy of all its targets
 * stay healthy. A group where none could leave without falling below refuses the deploy before
 * any change, naming the targets that serve nothing; with unhealthy-first, those go first (they
 * cost no capacity), and each host's leave is checked against the floors again (service.ts).
 */
export function healthCapacity(
  groups: readonly GroupHealth[],
  minHealthy: CountOrPercent | undefined,
  maxConcurrency: CountOrPercent,
  unhealthyFirst: boolean
): Capacity & { floors: GroupFloor[] } {
  const floors = groups.map((g) => ({
    arn: g.arn,
    name: g.name,
    targets: g.targets,
    healthy: g.healthy.length,
    minHealthy: minHealthyCount(minHealthy ?? DEFAULT_MIN_HEALTHY, g.targets)
  }))
  const free = (f: GroupFloor): number => f.healthy - f.minHealthy
  const binding = [...floors].sort((a, b) => free(a) - free(b))[0]
  const health = groups.find((g) => g.arn === binding?.arn)
  if (!binding || !health?.notServing.length) {
    // Every target healthy: the count of hosts is the count of healthy targets.
    const base = capacity(binding?.targets ?? 0, minHealthy, maxConcurrency)
    return { ...base, floors }
  }
  const concurrency = Math.max(1, resolveCountOrPercent(maxConcurrency, binding.targets))
  const notServing = new Set(groups.flatMap((g) => g.notServing.map((t) => t.instanceId))).size
  // A floor of 0 accepts every host out at once, serving or not.
  if (free(binding) < 1 && binding.minHealthy > 0 && !unhealthyFirst)
    throw belowFloor(health, binding, minHealthy)
  const slots = Math.max(free(binding), 0) + (unhealthyFirst ? notServing : 0)
  return {
    inService: binding.healthy,
    minHealthy: binding.minHealthy,
    maxOutOfService: Math.max(1, Math.min(concurrency, slots)),
    floors
  }
}

function belowFloor(
  health: GroupHealth,
  floor: GroupFloor,
  minHealthy: CountOrPercent | undefined
): SettingError {
  const given = minHealthy
    ? `${JSON.stringify(minHealthy.kind === 'count' ? `${minHealthy.value}` : `${minHealthy.value}%`)} keeps`
    : 'is not set, and its default (two thirds, rounded up) keeps'
  const names = health.notServing.map(describeNotServing).join(', ')
  return new SettingError(
    'minHealthy',
    `${given} ${floor.minHealthy} of the ${floor.targets} target(s) of target group ${health.name} healthy, and only ${floor.healthy} are healthy now: no host can leave it without going below. Not serving: ${names}. ` +
      `Nothing was changed. Repair those targets, set ${setting('unhealthyFirst')} to true to deploy them first (they serve nothing, so they cost no capacity), or lower ${setting('minHealthy')}.`
  )
}
