/**
 * `rollback-commands` (rollout and deploy), with the same env (EBS_AUTOSCALE_COMMIT and _REF
 * included: the commit it rolls back from), run-as and working directory.
 */
import { type Provenance } from '../../model/provenance.js'
import type { Inputs } from './inputs.js'
import type { RollbackSettings } from '../../rollout/rollback.js'
import { commitEnv } from './commit.js'

export function readRollbackSettings(
  inputs: Inputs,
  ctx: Provenance
): RollbackSettings | undefined {
  const commands = inputs.text('rollback-commands')
  if (!commands.trim()) return undefined
  const workingDirectory = inputs.optional('working-directory')
  const runAs = inputs.user('run-as')
  const run = ['run', ctx.runId, ctx.runAttempt].filter(Boolean).join('-')
  return {
    commands,
    script: {
      env: [...commitEnv(ctx), ...inputs.env('env')],
      ...(workingDirectory ? { workingDirectory } : {}),
      ...(runAs ? { runAs } : {}),
      logName: `${run}-rollback`
    }
  }
}
