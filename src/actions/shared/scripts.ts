/** `commands` and `run-once`, and how they run (rollout, deploy, and a release's scripts). */
import type { Provenance } from '../../model/provenance.js'
import { checkCommands } from '../../rollout/settings.js'
import type { ScriptOptions } from '../../rollout/script.js'
import { commitEnv } from './commit.js'
import type { Inputs } from './inputs.js'

/**
 * The user's scripts and how they run: `commands` and `run-once` with env (the commit's first),
 * working directory, run-as and log names. A release (artifact) runs them inside its new
 * directory, so `commands` may be empty there, and rollback-to runs neither.
 */
export function readScripts(
  inputs: Inputs,
  ctx: Provenance
): { commands: ScriptOptions; runOnce?: ScriptOptions } {
  const commands = inputs.text('commands')
  const shipsOrSwitches = inputs.optional('artifact') || inputs.optional('rollback-to')
  if (!shipsOrSwitches) checkCommands(commands)
  const workingDirectory = inputs.optional('working-directory')
  const runAs = inputs.user('run-as')
  const run = ['run', ctx.runId, ctx.runAttempt].filter(Boolean).join('-')
  const common = {
    env: [...commitEnv(ctx), ...inputs.env('env')],
    ...(workingDirectory ? { workingDirectory } : {}),
    ...(runAs ? { runAs } : {})
  }
  const runOnce = inputs.text('run-once')
  return {
    commands: { commands, ...common, logName: `${run}-commands` },
    ...(runOnce.trim()
      ? { runOnce: { commands: runOnce, ...common, logName: `${run}-run-once` } }
      : {})
  }
}
