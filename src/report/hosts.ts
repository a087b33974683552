import type { Host } from '../hosts/host.js'
import { code, table } from './markdown.js'

export function hostsTable(hosts: readonly Host[]): string {
  return table(
    [
      '#',
      'Instance',
      'Private IP',
      'AZ',
      'Launched',
      'Template version',
      'Auto Scaling group',
      'Release'
    ],
    hosts.map((h, i) => [
      i === 0 ? '1 (primary)' : i + 1,
      code(h.instanceId),
      h.privateIp,
      h.availabilityZone,
      h.launchTime.replace(/\.\d+Z$/, 'Z'),
      h.launchTemplateId ? `${h.launchTemplateId} v${h.launchTemplateVersion ?? '?'}` : undefined,
      h.autoScalingGroup
        ? `${h.autoScalingGroup}${h.lifecycleState ? ` (${h.lifecycleState})` : ''}`
        : undefined,
      h.release ? code(h.release) : undefined
    ])
  )
}

/** A line under the table naming Standby members: deployed, but out of service until ExitStandby. */
export function standbyNote(hosts: readonly Host[]): string {
  const standby = hosts.filter((h) => h.lifecycleState === 'Standby').map((h) => code(h.instanceId))
  return standby.length
    ? `In Standby (deployed like the others; they serve the new code after ExitStandby): ${standby.join(', ')}`
    : ''
}
