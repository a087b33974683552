/**
 * The post step's half of the journal: when the main step died or failed before its own
 * `finally` settled everything, the post step reads the journal it left and settles what is
 * still held with the same settlers. Commands are cancelled only if still running (their status
 * is read first); a snapshot never published is tagged failed.
 */
import { Journal, type StateProvider } from './journal.js'
import { type Settled, type Settlers, settleHeld } from './settle.js'

/** Why a snapshot a dead main step left is tagged failed. */
export const POST_STEP_REASON = 'the run did not finish; its post step settled it'

/** Undefined when the main step left nothing held; `settlers` is only called otherwise. */
export async function replayJournal(
  state: StateProvider,
  settlers: () => Settlers
): Promise<Settled[] | undefined> {
  const journal = Journal.read(state)
  if (journal.held().length === 0) return undefined
  return settleHeld(journal, settlers())
}
