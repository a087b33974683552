/**
 * Clean-up. While the main step runs, SIGINT/SIGTERM (the runner cancelling the job) abort
 * the one runtime's signal, so the run stops and releases what it holds itself. Should the
 * main step die or fail first, the `post` step (post-if: cancelled() || failure()) replays
 * the journal it left: it cancels only the commands still running (their status is read
 * first) and tags a snapshot the run made but never published as failed, saying what it did.
 */
import * as core from '@actions/core'
import { Journal, type StateProvider } from '../../deploy/journal.js'
import type { AwsClients } from '../../aws/clients.js'
import { releaseHeld, type Releasers } from '../../deploy/release.js'
import { clientsFromInputs, readInputs, runAction, runnerRuntime } from '../shared/runner.js'

/** The runner's state file (STATE_* in the post step) as the journal's store. */
export const runnerState: StateProvider = {
  setState: (key, value) => core.saveState(key, value),
  getState: (key) => core.getState(key)
}

/** The rollout adapter's cancellation: the signal of the step's one runtime. */
export function watchForCancellation(): { signal: AbortSignal } {
  return { signal: runnerRuntime().signal }
}

/** Marks the main step, so the shared bundle knows its post step when it runs again. */
export function markMainStep(): void {
  core.saveState('isPost', 'true')
}

/**
 * Marks the main step and starts its journal: each command sent (for the post step to cancel
 * if still running) and each host out of service (to register again).
 */
export function startJournal(): Journal {
  markMainStep()
  return Journal.start(runnerState)
}

/**
 * The post step of `action` (rollout or deploy): releases what the main step still held,
 * with the releasers that action needs (the rollout holds commands only).
 */
export async function runPostStep(
  action: string,
  releasers: (clients: AwsClients) => Releasers
): Promise<void> {
  await runAction(async () => {
    const journal = Journal.read(runnerState)
    if (journal.held().length === 0) {
      core.info(
        'The main step left no command running, no host out of service and no unpublished snapshot: nothing to do.'
      )
      return
    }
    const clients = clientsFromInputs(readInputs(), `${action}-post`)
    const released = await releaseHeld(journal, releasers(clients))
    for (const r of released) {
      if (r.ok) core.info(r.outcome)
      else core.warning(r.outcome)
    }
    await core.summary
      .addRaw(`## ${action}: clean-up after the main step\n\n`)
      .addList(released.map((r) => r.outcome))
      .write()
  })
}
