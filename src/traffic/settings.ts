/**
 * The rules for choosing target groups, whoever reads them: a list in, the choice or a
 * SettingError naming the field out. Checked before any AWS call.
 */
import { setting, SettingError } from '../errors.js'
import type { TargetGroupChoice } from './types.js'

const TARGET_GROUP_ARN =
  /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]+$/
/** ELBv2's rule: 1 to 32 letters, digits and hyphens, not starting or ending with a hyphen. */
const TARGET_GROUP_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/

/**
 * Empty or `auto` = the target groups of the hosts' Auto Scaling groups; ARNs or names instead
 * of them; `auto` among ARNs or names = both; `none` = leave traffic alone.
 */
export function targetGroupChoice(items: readonly string[]): TargetGroupChoice {
  if (items.length === 0) return { auto: true, given: [] }
  if (items.includes('none')) {
    if (items.length > 1) {
      throw new SettingError(
        'targetGroups',
        `${JSON.stringify(items.join(', '))} mixes "none" with target groups. Expected "none" alone, or target groups (with "auto" to add the Auto Scaling groups' own).`
      )
    }
    return { auto: false, given: [] }
  }
  const given = items.filter((i) => i !== 'auto')
  const bad = given.find((i) => !TARGET_GROUP_ARN.test(i) && !TARGET_GROUP_NAME.test(i))
  if (bad !== undefined) {
    throw new SettingError(
      'targetGroups',
      `${JSON.stringify(bad)} is neither a target group ARN nor a target group name. Expected ARNs like "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/0123456789abcdef" or names like "shop-web", "auto" or "none".`
    )
  }
  return { auto: items.includes('auto'), given }
}

/** unhealthy-first orders hosts by what the target groups say: it needs target groups. */
export function checkUnhealthyFirst(
  unhealthyFirst: boolean,
  targetGroups: TargetGroupChoice
): void {
  if (!unhealthyFirst || targetGroups.auto || targetGroups.given.length) return
  throw new SettingError(
    'unhealthyFirst',
    `true needs target groups to tell which hosts are unhealthy, and ${setting('targetGroups')} is "none". Expected false, or target groups.`
  )
}
