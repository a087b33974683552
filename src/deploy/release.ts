/**
 * Releases what a journal still holds, each kind by its own releaser, the same way whoever
 * does it (the run's finally, or a post step): a command is cancelled only if it is still
 * running (its status is read first). Each release says what it did; one that fails is
 * reported and the others still go on. Snapshots: release-snapshot.ts; hosts out of service:
 * release-traffic.ts; locks: release-lock.ts.
 */
import { ListCommandsCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { aws, errorMessage } from '../errors.js'
import { cancelCommand } from '../rollout/commands.js'
import { TERMINAL_COMMAND_STATUSES } from '../ssm/status.js'
import type { Held, Journal } from './journal.js'

/** Releases one kind of entry; answers a sentence for the log. */
export type Releaser<K extends Held['kind']> = (held: Extract<Held, { kind: K }>) => Promise<string>

/** One releaser per kind a step may find in its journal. */
export type Releasers = { [K in Held['kind']]?: Releaser<K> }

export interface Released {
  held: Held
  /** What was done, a sentence for the log: "Cancelled command X (it was InProgress)." */
  outcome: string
  ok: boolean
}

export async function releaseHeld(journal: Journal, releasers: Releasers): Promise<Released[]> {
  const done: Released[] = []
  // Locks last: the next deploy starts only once this one's commands and snapshot are settled.
  const all = journal.held()
  const ordered = [...all.filter((h) => h.kind !== 'lock'), ...all.filter((h) => h.kind === 'lock')]
  for (const held of ordered) {
    try {
      const releaser = releasers[held.kind] as Releaser<typeof held.kind> | undefined
      if (!releaser) throw new Error(`this step cannot release a ${held.kind}`)
      const outcome = await releaser(held as never)
      journal.release(held, outcome)
      done.push({ held, outcome, ok: true })
    } catch (err) {
      done.push({ held, outcome: `Could not ${whatOf(held)}: ${errorMessage(err)}`, ok: false })
    }
  }
  return done
}

function whatOf(held: Held): string {
  switch (held.kind) {
    case 'command':
      return `cancel command ${held.commandId}`
    case 'snapshot':
      return `settle snapshot ${held.snapshotId}`
    case 'lock':
      return `release the deploy lock ${held.name} (delete it by hand: aws ssm delete-parameter --name ${held.name})`
    case 'out-of-service':
      return `register ${held.instanceId} again in target group ${held.targetGroupArn}`
  }
}

/** Cancels a command only while SSM still lists it running. */
export function commandReleaser(ssm: SSMClient): Releaser<'command'> {
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
