/**
 * Rollback: when a rollout failed, `rollback-commands` runs on every host that started the new
 * commands (failed ones too: they may be half-way), through the same rollout (same traffic
 * steps, same concurrency), trying every host whatever the others do. The script knows where
 * it returns to: EBS_AUTOSCALE_PREVIOUS_COMMIT and EBS_AUTOSCALE_PREVIOUS_SNAPSHOT beside the
 * deploy's own env.
 */
import type { SSMClient } from '@aws-sdk/client-ssm'
import type { PreviousRelease } from '../model/release.js'
import type { Runtime } from '../runtime.js'
import { type RolloutHooks, type RolloutOptions, runRollout } from './run.js'
import type { HostScript } from './host-script.js'
import { buildScript, type ScriptOptions } from './script.js'
import type { HostResult, RolloutResult } from './types.js'

export interface RollbackSettings {
  commands: string
  /** The deploy's env, run-as, working directory and log name. */
  script: Omit<ScriptOptions, 'commands'>
}

export interface RollbackResult {
  /** The hosts the rollback ran on (those that started the new commands). */
  instanceIds: string[]
  rolledBack: string[]
  /** Hosts whose rollback failed: they may serve neither release. */
  failed: HostResult[]
  previous: PreviousRelease
  rollout?: RolloutResult
  /** Why it did not run, when it did not (a cancelled run, no host started). */
  notRun?: string
}

/** Every host that started the new commands and still exists, in host order. */
export function startedHosts(rolled: RolloutResult): string[] {
  return rolled.results
    .filter((r) => r.commandId !== undefined || r.status !== 'Skipped')
    .filter((r) => r.status !== 'Terminated')
    .map((r) => r.instanceId)
}

export function rollbackScript(settings: RollbackSettings, previous: PreviousRelease): string[] {
  return buildScript({
    ...settings.script,
    commands: settings.commands,
    env: [
      ...(settings.script.env ?? []),
      ['EBS_AUTOSCALE_PREVIOUS_COMMIT', previous.commit],
      ['EBS_AUTOSCALE_PREVIOUS_SNAPSHOT', previous.snapshotId]
    ]
  })
}

/** What each host runs to go back, and where that is (for the log and the result). */
export interface RollbackPlan {
  script: HostScript
  previous: PreviousRelease
}

/** rollback-commands' plan: the commands, told where they return to. */
export const commandsRollback = (
  settings: RollbackSettings,
  previous: PreviousRelease
): RollbackPlan => ({ script: rollbackScript(settings, previous), previous })

export async function rollBack(
  ssm: SSMClient,
  rolled: RolloutResult,
  options: Omit<RolloutOptions, 'instanceIds'>,
  plan: RollbackPlan,
  runtime: Runtime,
  hooks: Pick<RolloutHooks, 'onCommandSent' | 'lifecycle'> = {}
): Promise<RollbackResult> {
  const instanceIds = startedHosts(rolled)
  const { previous } = plan
  const base: RollbackResult = { instanceIds, rolledBack: [], failed: [], previous }
  if (runtime.signal.aborted) return { ...base, notRun: 'the run was cancelled' }
  if (!instanceIds.length) return { ...base, notRun: 'no host started the new commands' }
  runtime.log.warning(
    `Rolling back ${instanceIds.length} host(s) to ${previous.commit || 'the previous release'}${previous.snapshotId ? ` (${previous.snapshotId})` : ''}: ${instanceIds.join(' ')}`,
    { title: 'Rolling back' }
  )
  const rollout = await runRollout(
    ssm,
    {
      ...options,
      runOnceScript: undefined,
      instanceIds,
      script: plan.script,
      canary: 0,
      // Every host gets its rollback, whatever the others do.
      maxErrors: { kind: 'percent', value: 100 },
      skipOffline: true,
      dryRun: false
    },
    runtime,
    hooks
  )
  const failed = rollout.results.filter((r) => r.status !== 'Success')
  for (const r of failed) {
    runtime.log.error(
      `${r.instanceId}: the rollback did not succeed (${r.status}${r.reason ? `: ${r.reason}` : ''}); it may serve neither release. Check it by hand or replace it.`,
      { title: 'Rollback failed' }
    )
  }
  return {
    ...base,
    rolledBack: rollout.results.filter((r) => r.status === 'Success').map((r) => r.instanceId),
    failed,
    rollout
  }
}

/** One sentence for the step's failure message. */
export function describeRollback(r: RollbackResult | undefined): string {
  if (!r) return ''
  if (r.notRun) return ` Not rolled back: ${r.notRun}.`
  const failed = r.failed.length
    ? ` The rollback FAILED on ${r.failed.map((f) => f.instanceId).join(' ')}: they may serve neither release.`
    : ''
  return ` Rolled back ${r.rolledBack.length} of ${r.instanceIds.length} host(s) to ${r.previous.commit || 'the previous release'}.${failed}`
}
