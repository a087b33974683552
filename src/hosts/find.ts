/**
 * The hosts a rollout works on, as Host objects (their Auto Scaling group and lifecycle state
 * tell the traffic plan which target groups they serve in and which are in Standby): the ids
 * given, in that order, or the instances a query finds. Either way the first is the primary.
 */
import type { Clients } from '../aws/clients.js'
import type { Log } from '../log.js'
import { ActionError } from '../errors.js'
import { describeHostsById } from './by-id.js'
import type { Host } from './host.js'
import { describeQuery, type HostQuery, resolveHosts } from './resolve.js'

export type HostSelection = { instanceIds: readonly string[] } | { query: HostQuery }

export async function findHosts(
  clients: Clients,
  selection: HostSelection,
  log: Log
): Promise<Host[]> {
  if ('instanceIds' in selection) return describeHostsById(clients, selection.instanceIds)
  const description = describeQuery(selection.query)
  log.info(`Looking for instances in ${clients.region}: ${description}`)
  const { hosts } = await resolveHosts(clients, selection.query)
  if (!hosts.length)
    throw new ActionError(`No running instance matched ${description} in ${clients.region}.`)
  return hosts
}
