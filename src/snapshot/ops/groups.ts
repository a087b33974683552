/**
 * Phase 4a: the Auto Scaling groups that launch from the template, and which version each
 * follows. A group pinned to a version number ignores a new default: it gets a warning.
 */
import {
  type AutoScalingClient,
  type AutoScalingGroup,
  type LaunchTemplateSpecification,
  paginateDescribeAutoScalingGroups
} from '@aws-sdk/client-auto-scaling'
import { ActionError, setting, SettingError, wrapAwsError } from '../../errors.js'
import { describeGroups } from '../../hosts/resolve.js'
import type { LaunchTemplateRef } from './template.js'
import type { GroupFollows, GroupUsage } from '../types.js'

/** The groups using the template; with `asgName`, that one group, which must use it. */
export async function inspectGroups(
  autoscaling: AutoScalingClient,
  template: Pick<LaunchTemplateRef, 'id' | 'name'>,
  options: { asgName?: string } = {}
): Promise<GroupUsage[]> {
  if (options.asgName) {
    const [group] = await describeGroups(autoscaling, [options.asgName])
    const usage = groupUsage(group!, template)
    if (!usage) {
      const own = templateNames(group!)
      throw new SettingError(
        'groups',
        `Auto Scaling group ${options.asgName} launches from ${own.length ? `launch template ${own.join(', ')}` : 'no launch template'}, not from launch template ${template.name} (${template.id}). Expected only groups that use it, or leave ${setting('groups')} empty to find them.`
      )
    }
    return [usage]
  }

  const out: GroupUsage[] = []
  try {
    for await (const page of paginateDescribeAutoScalingGroups(
      { client: autoscaling, pageSize: 100 },
      {}
    )) {
      for (const group of page.AutoScalingGroups ?? []) {
        const usage = groupUsage(group, template)
        if (usage) out.push(usage)
      }
    }
  } catch (err) {
    throw wrapAwsError('DescribeAutoScalingGroups', err)
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

/** Every template a group launches from: its own, or its mixed policy's and overrides'. */
export function templateSpecs(group: AutoScalingGroup): LaunchTemplateSpecification[] {
  const mixed = group.MixedInstancesPolicy?.LaunchTemplate
  const specs = [
    group.LaunchTemplate,
    mixed?.LaunchTemplateSpecification,
    ...(mixed?.Overrides ?? []).map((o) => o.LaunchTemplateSpecification)
  ]
  return specs.filter(
    (s): s is LaunchTemplateSpecification => !!(s?.LaunchTemplateId || s?.LaunchTemplateName)
  )
}

/** The templates a group launches from, by name (or id when it names none), for messages. */
export function templateNames(group: AutoScalingGroup): string[] {
  return [...new Set(templateSpecs(group).map((s) => s.LaunchTemplateName ?? s.LaunchTemplateId!))]
}

/** How `group` uses the template, or undefined when it does not. */
export function groupUsage(
  group: AutoScalingGroup,
  template: Pick<LaunchTemplateRef, 'id' | 'name'>
): GroupUsage | undefined {
  const uses = (spec: LaunchTemplateSpecification | undefined): boolean =>
    !!spec && (spec.LaunchTemplateId === template.id || spec.LaunchTemplateName === template.name)
  const mixed = group.MixedInstancesPolicy?.LaunchTemplate
  const spec = uses(group.LaunchTemplate)
    ? { via: 'launch-template' as const, spec: group.LaunchTemplate! }
    : uses(mixed?.LaunchTemplateSpecification)
      ? { via: 'mixed-instances-policy' as const, spec: mixed!.LaunchTemplateSpecification! }
      : (mixed?.Overrides ?? [])
          .map((o) => o.LaunchTemplateSpecification)
          .filter(uses)
          .map((s) => ({ via: 'mixed-instances-policy' as const, spec: s! }))[0]
  if (!spec) return undefined
  // A group that names no version launches from the default.
  const version = spec.spec.Version || '$Default'
  return {
    name: group.AutoScalingGroupName ?? '',
    via: spec.via,
    version,
    follows: follows(version),
    desiredCapacity: group.DesiredCapacity ?? 0,
    instanceCount: group.Instances?.length ?? 0
  }
}

export function follows(version: string): GroupFollows {
  if (version === '$Default') return 'default'
  if (version === '$Latest') return 'latest'
  return 'pinned'
}

/** Whether instances the group launches from now on get `newVersion`. */
export function picksUp(group: GroupUsage, newVersionIsDefault: boolean): boolean {
  return group.follows === 'latest' || (group.follows === 'default' && newVersionIsDefault)
}

export function pinnedGroupWarning(
  group: GroupUsage,
  template: Pick<LaunchTemplateRef, 'id' | 'name'>,
  newVersion: number | undefined
): string {
  const spec = `LaunchTemplateId=${template.id},Version=$Default`
  const fix =
    group.via === 'mixed-instances-policy'
      ? `--mixed-instances-policy '{"LaunchTemplate":{"LaunchTemplateSpecification":{"LaunchTemplateId":"${template.id}","Version":"$Default"}}}'`
      : `--launch-template '${spec}'`
  return (
    `Auto Scaling group ${group.name} is pinned to version ${group.version} of ${template.name} (${template.id}), ` +
    `so the instances it launches ignore the new ${newVersion ? `version ${newVersion}` : 'version'} and boot with old code. ` +
    `Make it follow the default version ($Default): aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${group.name} ${fix}`
  )
}

/** An instance refresh needs a group to refresh. */
export function requireGroups(groups: readonly GroupUsage[], template: LaunchTemplateRef): void {
  if (groups.length === 0) {
    throw new ActionError(
      `No Auto Scaling group launches from ${template.name} (${template.id}), so there is nothing to refresh. Set asg-name, or instance-refresh: false.`
    )
  }
}
