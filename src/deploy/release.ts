/**
 * Releases what a journal still holds, the same way whoever does it: a command is cancelled
 * only if it is still running (its status is read first); a snapshot the run made but never
 * published is tagged failed (or deleted, when the deploy asks so). Each release says what it
 * did; one that fails is reported and the others still go on.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { ListCommandsCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { aws, errorMessage } from '../errors.js'
import { cancelCommand } from '../rollout/commands.js'
import { discardSnapshot, markSnapshotFailed } from '../snapshot/failed.js'
import { TERMINAL_COMMAND_STATUSES } from '../ssm/status.js'
import type { Held, Journal } from './journal.js'

export interface ReleaseOptions {
  /** Why the snapshot was not published (its failure tag). */
  reason: string
  /** A failed rollout's snapshot may be deleted (on-failure: delete); otherwise tagged. */
  snapshot: 'tag' | 'delete'
}

export interface Released {
  held: Held
  /** What was done, a sentence for the log: "Cancelled command X (it was InProgress)." */
  outcome: string
  ok: boolean
}

export async function releaseHeld(
  journal: Journal,
  clients: { ec2: EC2Client; ssm: SSMClient },
  options: ReleaseOptions
): Promise<Released[]> {
  const done: Released[] = []
  for (const held of journal.held()) {
    try {
      const outcome = await release(held, clients, options)
      journal.release(held, outcome)
      done.push({ held, outcome, ok: true })
    } catch (err) {
      const what =
        held.kind === 'command'
          ? `cancel command ${held.commandId}`
          : `settle snapshot ${held.snapshotId}`
      done.push({ held, outcome: `Could not ${what}: ${errorMessage(err)}`, ok: false })
    }
  }
  return done
}

async function release(
  held: Held,
  clients: { ec2: EC2Client; ssm: SSMClient },
  options: ReleaseOptions
): Promise<string> {
  if (held.kind === 'command') {
    const status = await commandStatus(clients.ssm, held.commandId)
    const id = held.commandId
    if (status && TERMINAL_COMMAND_STATUSES.has(status))
      return `Left command ${id} as it was: it had already ended (${status}).`
    await cancelCommand(clients.ssm, id)
    return `Cancelled command ${id} (it was ${status ?? 'not listed yet'}).`
  }
  const id = held.snapshotId
  if (options.snapshot === 'delete') {
    await discardSnapshot(clients.ec2, id)
    return `Deleted snapshot ${id}: it was never published (on-failure: delete).`
  }
  await markSnapshotFailed(clients.ec2, id, options.reason)
  return `Tagged snapshot ${id} as failed: it was never published.`
}

/** The command's overall status, or undefined when SSM does not list it (yet). */
async function commandStatus(ssm: SSMClient, commandId: string): Promise<string | undefined> {
  const out = await aws('ListCommands', ssm.send(new ListCommandsCommand({ CommandId: commandId })))
  return out.Commands?.[0]?.Status
}
