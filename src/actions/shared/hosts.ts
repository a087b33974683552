/** The host-selection inputs, shared by every action that resolves hosts. */
import type { Host } from '../../hosts/host.js'
import { describeQuery, type HostQuery } from '../../hosts/resolve.js'
import { checkHostSelector } from '../../hosts/settings.js'
import type { InstanceState } from '../../model/fleet.js'
import type { Inputs } from './inputs.js'

/**
 * `tags` and `asg-name` (one group or several: their members' union). Only resolve-hosts lets users pick other `states` (the caller reads
 * them); actions that deploy work on running instances.
 */
export function readHostQuery(
  inputs: Inputs,
  options: { requireSelector: boolean; states?: InstanceState[] }
): HostQuery & { description: string } {
  const tags = inputs.tags('tags')
  const asgNames = inputs.groupNames('asg-name')
  const states = options.states ?? ['running']
  const query: HostQuery = { tags, states, ...(asgNames.length ? { asgNames } : {}) }
  if (options.requireSelector) checkHostSelector(query)
  return { ...query, description: describeQuery(query) }
}

/** The outputs every host-resolving action shares, in host order, empty values dropped. */
export function hostOutputs(hosts: readonly Host[]): Record<string, string | number | object> & {
  releases: Record<string, string>
} {
  const present = (values: Array<string | undefined>): string[] =>
    values.filter((v): v is string => v !== undefined && v !== '')
  return {
    'instance-ids': hosts.map((h) => h.instanceId),
    'private-ips': present(hosts.map((h) => h.privateIp)),
    'private-dns-names': present(hosts.map((h) => h.privateDnsName)),
    'public-dns-names': present(hosts.map((h) => h.publicDnsName)),
    count: hosts.length,
    'primary-instance-id': hosts[0]?.instanceId ?? '',
    releases: Object.fromEntries(
      hosts.flatMap((h) => (h.release ? [[h.instanceId, h.release]] : []))
    ),
    hosts
  }
}
