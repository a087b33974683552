/**
 * Without asg-name or launch-template: the templates the hosts came from. Hosts found by tags
 * can span several groups (on-demand and spot) with templates of their own; publishing only to
 * the primary's would leave the others launching old code behind a green step. So each group a
 * host is a member of (its aws:autoscaling:groupName tag) is published to through every
 * template it launches from now, and a host in no group through the template it was launched
 * from (aws:ec2launchtemplate:id). The primary's templates come first.
 */
import type { AutoScalingClient, AutoScalingGroup } from '@aws-sdk/client-auto-scaling'
import type { EC2Client } from '@aws-sdk/client-ec2'
import { ActionError } from '../errors.js'
import type { Host } from '../hosts/host.js'
import { describeGroup } from '../hosts/resolve.js'
import { templateSpecs } from '../snapshot/ops/groups.js'
import { describeLaunchTemplate } from '../snapshot/ops/template.js'

/** Template ids by name, read once each. */
export type TemplateIds = Map<string, string>

/** The ids of the templates a group launches from (empty: a launch configuration). */
export async function groupTemplateIds(
  ec2: EC2Client,
  group: AutoScalingGroup,
  ids: TemplateIds
): Promise<string[]> {
  const out: string[] = []
  for (const spec of templateSpecs(group)) {
    const name = spec.LaunchTemplateName!
    const id =
      spec.LaunchTemplateId ?? ids.get(name) ?? (await describeLaunchTemplate(ec2, name)).id
    if (!spec.LaunchTemplateId) ids.set(name, id)
    if (!out.includes(id)) out.push(id)
  }
  return out
}

/**
 * Every template the hosts' groups launch from, and those ungrouped hosts were launched from,
 * in host order (the primary first). Refuses, naming them, groups that launch from no
 * template: nothing the deploy publishes would reach their next instances.
 */
export async function hostTemplates(
  clients: { ec2: EC2Client; autoscaling: AutoScalingClient },
  hosts: readonly Host[]
): Promise<string[]> {
  const templates: string[] = []
  const add = (id: string) => templates.includes(id) || templates.push(id)
  const groups = new Map<string, AutoScalingGroup | undefined>()
  const ids: TemplateIds = new Map()
  const refused: string[] = []
  for (const host of hosts) {
    const name = host.autoScalingGroup
    if (name && !groups.has(name)) groups.set(name, await describeGroup(clients.autoscaling, name))
    const group = name ? groups.get(name) : undefined
    // A group deleted since it launched the host: the host is on its own, like any other.
    if (!group) {
      if (host.launchTemplateId) add(host.launchTemplateId)
      continue
    }
    const own = await groupTemplateIds(clients.ec2, group, ids)
    if (own.length === 0 && !refused.includes(name!)) refused.push(name!)
    own.forEach(add)
  }
  if (refused.length) throw noTemplate(refused)
  return templates
}

function noTemplate(groups: readonly string[]): ActionError {
  const which =
    groups.length > 1
      ? `Auto Scaling groups ${groups.join(', ')}`
      : `Auto Scaling group ${groups[0]}`
  return new ActionError(
    `The hosts include members of ${which}, which launch${groups.length > 1 ? '' : 'es'} from no launch template (a launch configuration?): ` +
      'no template version can boot the new code there, so their next instances would boot the old code. Nothing was changed. ' +
      'Expected every group the hosts belong to to launch from a launch template, or name the groups to deploy with asg-name.'
  )
}
