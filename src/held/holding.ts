/**
 * A run that holds things: a journal started before the body, and whatever ended the body (a
 * return, an error, a cancellation), everything still held is settled before the run returns.
 * The deploy and the rollout flow both run this way, so cleanup exists once; the post step
 * replays the same journal with the same settlers when the main step died before its finally.
 */
import type { Log } from '../log.js'
import { Journal, type StateProvider } from './journal.js'
import { type Settled, type Settlers, settleHeld } from './settle.js'

export interface Holding<T> {
  value: T
  /** What the run still held when it ended, and what became of each. */
  settled: Settled[]
}

export async function holding<T>(
  state: StateProvider,
  log: Log,
  /** The settlers, chosen by how the body ended (its value, or undefined when it threw). */
  settlersFor: (value: T | undefined, error?: unknown) => Settlers,
  body: (journal: Journal) => Promise<T>
): Promise<Holding<T>> {
  const journal = Journal.start(state)
  let value: T
  try {
    value = await body(journal)
  } catch (err) {
    report(await settleHeld(journal, settlersFor(undefined, err)), log)
    throw err
  }
  const settled = await settleHeld(journal, settlersFor(value))
  report(settled, log)
  return { value, settled }
}

function report(settled: readonly Settled[], log: Log): void {
  for (const s of settled) {
    if (s.ok) log.info(s.outcome)
    else log.error(s.outcome, { title: 'Left held' })
  }
}
