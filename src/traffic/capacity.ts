/**
 * How many hosts may be out of service at once: `min-healthy` stay in, `max-concurrency` caps
 * the rest. Percentages of min-healthy round up (the safe side, as CodeDeploy's do).
 */
import { setting, SettingError } from '../errors.js'
import { type CountOrPercent, resolveCountOrPercent } from '../model/fleet.js'

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
