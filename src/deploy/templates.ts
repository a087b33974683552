/**
 * Which launch templates a deploy publishes to. With launch-template set: that one, and every
 * group named in asg-name must launch from it. Without it: each distinct template the named
 * groups launch from (a group's LaunchTemplate, or its MixedInstancesPolicy's template and
 * overrides), one target per template with the groups that use it, in the order the groups
 * are named; with no group named, every template the hosts came from (host-templates.ts), or
 * the one the primary was launched from.
 */
import type { AutoScalingClient, AutoScalingGroup } from '@aws-sdk/client-auto-scaling'
import type { EC2Client } from '@aws-sdk/client-ec2'
import { setting, SettingError } from '../errors.js'
import type { Host } from '../hosts/host.js'
import { groupUsage, templateNames } from '../snapshot/ops/groups.js'
import type { PublishTarget } from '../snapshot/targets.js'
import { describeLaunchTemplate, type LaunchTemplateRef } from '../snapshot/ops/template.js'
import { groupTemplateIds, hostTemplates, type TemplateIds } from './host-templates.js'
import type { DeployTarget } from './types.js'

export async function deployTargets(
  clients: { ec2: EC2Client; autoscaling: AutoScalingClient },
  target: DeployTarget,
  resolved: { groups: readonly AutoScalingGroup[]; hosts: readonly Host[] }
): Promise<PublishTarget[]> {
  const { ec2 } = clients
  const { groups, hosts } = resolved
  const names = groups.map((g) => g.AutoScalingGroupName ?? '')
  if (target.launchTemplate) {
    const template = await describeLaunchTemplate(ec2, target.launchTemplate)
    for (const group of groups) requireUses(group, template)
    // Hosts by tags alone: any other template they came from would go on booting the old code.
    if (groups.length === 0) requireOnly(template, await hostTemplates(clients, hosts))
    return [{ ...target, launchTemplate: template.id, ...(names.length ? { groups: names } : {}) }]
  }
  if (groups.length === 0) {
    const found = await hostTemplates(clients, hosts)
    if (found.length === 0) return [{ ...target, launchTemplate: primaryTemplate(hosts[0]) }]
    return found.map((launchTemplate) => ({ ...target, launchTemplate }))
  }

  const byTemplate = new Map<string, string[]>()
  const ids: TemplateIds = new Map()
  for (const group of groups) {
    const own = await groupTemplateIds(ec2, group, ids)
    if (own.length === 0) {
      throw new SettingError(
        'groups',
        `Auto Scaling group ${group.AutoScalingGroupName} launches from no launch template (a launch configuration?), so no template version can boot the new code. Expected groups that launch from a launch template.`
      )
    }
    for (const id of own) {
      const users = byTemplate.get(id) ?? []
      if (!users.includes(group.AutoScalingGroupName!)) users.push(group.AutoScalingGroupName!)
      byTemplate.set(id, users)
    }
  }
  return [...byTemplate].map(([launchTemplate, users]) => ({
    ...target,
    launchTemplate,
    groups: users
  }))
}

/** An explicit launch-template with groups: each group must launch from it. */
function requireUses(group: AutoScalingGroup, template: LaunchTemplateRef): void {
  if (groupUsage(group, template)) return
  const own = templateNames(group)
  throw new SettingError(
    'launchTemplate',
    `is ${template.name} (${template.id}), but Auto Scaling group ${group.AutoScalingGroupName} launches from ${own.length ? `launch template ${own.join(', ')}` : 'no launch template'}. Expected the template every group in ${setting('groups')} launches from, or leave ${setting('launchTemplate')} empty to publish to each group's own template.`
  )
}

/** An explicit launch-template with hosts by tags: every host must come from it. */
function requireOnly(template: LaunchTemplateRef, found: readonly string[]): void {
  const others = found.filter((id) => id !== template.id)
  if (others.length === 0) return
  throw new SettingError(
    'launchTemplate',
    `is ${template.name} (${template.id}), but some hosts were launched from launch template ${others.join(', ')} too: the next instances launched from ${others.length > 1 ? 'those' : 'it'} would boot the old code. Nothing was changed. Expected ${setting('launchTemplate')} empty to publish to every template the hosts came from, or ${setting('groups')} naming only the groups that use ${template.name}.`
  )
}

function primaryTemplate(primary: Host | undefined): string {
  if (primary?.launchTemplateId) return primary.launchTemplateId
  throw new SettingError(
    'launchTemplate',
    `is not set, and the primary ${primary?.instanceId ?? '(none)'} was not launched from a launch template. Expected the launch template to publish the snapshot to.`
  )
}
