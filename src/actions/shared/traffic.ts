/** The traffic inputs (load balancer draining and health gates), parsed before any change. */
import type { Inputs } from './inputs.js'
import type { TrafficSettings } from '../../traffic/plan.js'
import { checkUnhealthyFirst, targetGroupChoice } from '../../traffic/settings.js'
import type { TargetGroupChoice } from '../../traffic/types.js'

/** The longest deregistration delay ELB allows is 3600 s; leave room for its own lag. */
const MAX_WAIT_MS = 7_200_000

export function readTrafficSettings(inputs: Inputs): TrafficSettings {
  const targetGroups = readTargetGroups(inputs)
  const drain = inputs.optional('drain-timeout')
  const health = inputs.optional('health-timeout')
  const minHealthy = inputs.optional('min-healthy')
  const unhealthyFirst = inputs.boolean('unhealthy-first', false)
  checkUnhealthyFirst(unhealthyFirst, targetGroups)
  return {
    targetGroups,
    ...(unhealthyFirst ? { unhealthyFirst } : {}),
    ...(drain !== undefined
      ? { drainTimeoutMs: inputs.duration('drain-timeout', drain, { maxMs: MAX_WAIT_MS }) }
      : {}),
    ...(health !== undefined
      ? {
          healthTimeoutMs: inputs.duration('health-timeout', health, {
            minMs: 1000,
            maxMs: MAX_WAIT_MS
          })
        }
      : {}),
    ...(minHealthy !== undefined
      ? { minHealthy: inputs.countOrPercent('min-healthy', minHealthy) }
      : {})
  }
}

/** `target-groups`: see targetGroupChoice. */
export function readTargetGroups(inputs: Inputs): TargetGroupChoice {
  return targetGroupChoice(inputs.list('target-groups'))
}
