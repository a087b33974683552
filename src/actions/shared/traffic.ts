/** The traffic inputs (load balancer draining and health gates), parsed before any change. */
import { InputError } from '../../errors.js'
import type { Inputs } from './inputs.js'
import type { TrafficSettings } from '../../traffic/plan.js'
import type { TargetGroupChoice } from '../../traffic/types.js'

const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/
/** ELBv2's rule: 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen. */
const TARGET_GROUP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/
/** The longest deregistration delay ELB allows is 3600 s; leave room for its own lag. */
const MAX_WAIT_MS = 7_200_000

export function readTrafficSettings(inputs: Inputs): TrafficSettings {
  const targetGroups = readTargetGroups(inputs)
  const drain = inputs.optional('drain-timeout')
  const health = inputs.optional('health-timeout')
  const minHealthy = inputs.optional('min-healthy')
  return {
    targetGroups,
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

/**
 * `target-groups`: empty or `auto` = the target groups of the hosts' Auto Scaling groups; ARNs or
 * names instead of them; `auto` among ARNs or names = both; `none` = leave traffic alone.
 */
export function readTargetGroups(inputs: Inputs): TargetGroupChoice {
  const items = inputs.list('target-groups')
  if (items.length === 0) return { auto: true, given: [] }
  if (items.includes('none')) {
    if (items.length > 1) {
      throw new InputError(
        'target-groups',
        `${JSON.stringify(inputs.raw('target-groups'))} mixes "none" with target groups. Expected "none" alone, or target groups (with "auto" to add the Auto Scaling groups' own).`
      )
    }
    return { auto: false, given: [] }
  }
  const given = items.filter((i) => i !== 'auto')
  const bad = given.find((i) => !TARGET_GROUP_ARN.test(i) && !TARGET_GROUP_NAME.test(i))
  if (bad !== undefined) {
    throw new InputError(
      'target-groups',
      `${JSON.stringify(bad)} is neither a target group ARN nor a target group name. Expected ARNs like "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/0123456789abcdef" or names like "shop-web", "auto" or "none".`
    )
  }
  return { auto: items.includes('auto'), given }
}
