/**
 * The runner's side of held resources. While the main step runs, SIGINT/SIGTERM (the runner
 * cancelling the job) abort the one runtime's signal, so the run stops and settles what it holds
 * itself. Should the main step die or fail first, the `post` step (post-if: cancelled() ||
 * failure()) replays the journal it left (src/held/replay.ts) and says what it did; for a deploy
 * that journal is only its locks, whose record in AWS lists the rest. What it cannot settle
 * fails the post step.
 */
import * as core from '@actions/core'
import type { Clients } from '../../aws/clients.js'
import { ActionError } from '../../errors.js'
import type { StateProvider } from '../../held/journal.js'
import { replayJournal } from '../../held/replay.js'
import type { Settlers } from '../../held/settle.js'
import { clientsFromInputs, readInputs, runAction } from './runner.js'

/** The runner's state file (STATE_* in the post step) as the journal's store. */
export const runnerState: StateProvider = {
  setState: (key, value) => core.saveState(key, value),
  getState: (key) => core.getState(key)
}

/** Marks the main step, so the shared bundle knows its post step when it runs again. */
export function markMainStep(): void {
  core.saveState('isPost', 'true')
}

export const isPostStep = (): boolean => core.getState('isPost') === 'true'

/**
 * The post step of `action` (rollout or deploy): settles what the main step still held, with
 * the settlers of what that action may hold.
 */
export async function runPostStep(
  action: string,
  settlers: (clients: Clients) => Settlers
): Promise<void> {
  await runAction(async () => {
    const settled = await replayJournal(runnerState, () =>
      settlers(clientsFromInputs(readInputs(), `${action}-post`))
    )
    if (!settled) {
      core.info(
        'The main step left no command running, no host out of service and no unpublished snapshot: nothing to do.'
      )
      return
    }
    for (const s of settled) {
      if (s.ok) core.info(s.outcome)
      else core.warning(s.outcome)
    }
    await core.summary
      .addRaw(`## ${action}: clean-up after the main step\n\n`)
      .addList(settled.map((s) => s.outcome))
      .write()
    const left = settled.filter((s) => !s.ok)
    if (left.length)
      throw new ActionError(
        `${left.length} thing(s) the main step held could not be cleaned up: ${left.map((s) => s.outcome).join(' ')}`
      )
  })
}
