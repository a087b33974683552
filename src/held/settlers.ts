/**
 * How the rollout's held things are settled, made once for every caller (the deploy's and the
 * rollout's `finally`, and both post steps): a command is cancelled only while still running, a
 * host out of service is registered again exactly so (same port). What only a publish holds (a
 * snapshot, the deploy locks) is in publish-settlers.ts, so the rollout bundle never calls it.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { ListCommandsCommand, type SSMClient } from '@aws-sdk/client-ssm'
import type { Clients } from '../aws/clients.js'
import { aws } from '../errors.js'
import { cancelCommand } from '../ssm/cancel.js'
import { TERMINAL_COMMAND_STATUSES } from '../ssm/status.js'
import { restoreRegistrations } from '../traffic/targets.js'
import type { Settler, Settlers } from './settle.js'
import { registrationOf } from './traffic.js'

/** What the rollout holds: its commands, and hosts out of service. */
export function rolloutSettlers(clients: Clients): Settlers {
  return { command: commandSettler(clients.ssm), 'out-of-service': trafficSettler(clients.elbv2) }
}

export function trafficSettler(elbv2: ElasticLoadBalancingV2Client): Settler<'out-of-service'> {
  return async (held) => {
    const registration = registrationOf(held)
    const result = await restoreRegistrations(elbv2, [registration])
    const failed = result.failed[0]
    if (failed) throw new Error(failed.error)
    const port = held.port !== undefined ? ` (port ${held.port})` : ''
    return `Registered ${held.instanceId}${port} again in target group ${registration.targetGroupName}.`
  }
}

/** Cancels a command only while SSM still lists it running. */
export function commandSettler(ssm: SSMClient): Settler<'command'> {
  return async ({ commandId }) => {
    const status = await commandStatus(ssm, commandId)
    if (status && TERMINAL_COMMAND_STATUSES.has(status))
      return `Left command ${commandId} as it was: it had already ended (${status}).`
    await cancelCommand(ssm, commandId)
    return `Cancelled command ${commandId} (it was ${status ?? 'not listed yet'}).`
  }
}

/** The command's overall status, or undefined when SSM does not list it (yet). */
async function commandStatus(ssm: SSMClient, commandId: string): Promise<string | undefined> {
  const out = await aws('ListCommands', ssm.send(new ListCommandsCommand({ CommandId: commandId })))
  return out.Commands?.[0]?.Status
}
