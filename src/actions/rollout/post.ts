/**
 * Cancellation. While the main step runs, SIGINT/SIGTERM (the runner cancelling the job)
 * abort the rollout, which cancels its running commands. Should the process die first, the
 * `post` step (post-if: cancelled()) cancels every command the main step recorded.
 */
import * as core from '@actions/core'
import { errorMessage } from '../../errors.js'
import { cancelCommand } from '../../rollout/commands.js'
import { clientsFromInputs, readInputs, runAction, runnerRuntime } from '../shared/runner.js'

/** The rollout adapter's cancellation: the signal of the step's one runtime. */
export function watchForCancellation(): { signal: AbortSignal } {
  return { signal: runnerRuntime().signal }
}

/**
 * Marks the main step (so the shared bundle knows its post step) and returns the hook that
 * records each command sent, for the post step to cancel.
 */
export function recordSentCommands(): (commandId: string) => void {
  core.saveState('isPost', 'true')
  const sent: string[] = []
  return (commandId) => {
    sent.push(commandId)
    core.saveState('command-ids', JSON.stringify(sent))
  }
}

/** The post step of `action` (rollout or deploy). */
export async function cancelSentCommands(action: string): Promise<void> {
  await runAction(async () => {
    const ids = JSON.parse(core.getState('command-ids') || '[]') as string[]
    if (!ids.length) {
      core.info('No command was sent: nothing to cancel.')
      return
    }
    const clients = clientsFromInputs(readInputs(), `${action}-post`)
    for (const id of ids) {
      try {
        await cancelCommand(clients.ssm, id)
        core.info(
          `Cancelled command ${id} (a command that had already finished is left as it was).`
        )
      } catch (err) {
        core.warning(`Could not cancel command ${id}: ${errorMessage(err)}`)
      }
    }
  })
}
