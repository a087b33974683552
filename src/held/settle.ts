/**
 * Settles what a journal still holds, each kind by its own settler, the same way whoever does
 * it (the run's own `finally`, or a post step replaying the journal). Each settler says what it
 * did; one that fails is reported and the others still go on, and its entry stays held, so the
 * post step (or the next try) settles it again: every settler is safe to repeat.
 */
import { errorMessage } from '../errors.js'
import type { Held, HeldKind, Journal } from './journal.js'

/** Settles one kind of entry; answers a sentence for the log. */
export type Settler<K extends HeldKind> = (held: Extract<Held, { kind: K }>) => Promise<string>

/** One settler per kind a step may find in its journal. */
export type Settlers = { [K in HeldKind]?: Settler<K> }

export interface Settled {
  held: Held
  /** What was done, a sentence for the log: "Cancelled command X (it was InProgress)." */
  outcome: string
  ok: boolean
}

export async function settleHeld(journal: Journal, settlers: Settlers): Promise<Settled[]> {
  const done: Settled[] = []
  // Locks last: the next deploy starts only once this one's commands and snapshot are settled.
  const all = journal.held()
  const ordered = [...all.filter((h) => h.kind !== 'lock'), ...all.filter((h) => h.kind === 'lock')]
  for (const held of ordered) {
    try {
      const settler = settlers[held.kind] as Settler<typeof held.kind> | undefined
      if (!settler) throw new Error(`this step cannot settle a ${held.kind}`)
      const outcome = await settler(held as never)
      journal.settle(held, outcome)
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
      return `free the deploy lock ${held.name} (delete it by hand: aws ssm delete-parameter --name ${held.name})`
    case 'out-of-service':
      return `register ${held.instanceId} again in target group ${held.targetGroupArn}`
  }
}
