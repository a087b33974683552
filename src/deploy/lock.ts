/**
 * The deploy's locks: one per launch template it publishes to (src/lock/deploy-lock.ts), taken
 * once the templates are known and before anything reads their default version, so a deploy
 * that waited reads the default the previous deploy left. Each lock goes into the journal as it
 * is taken: the run's `finally` and the post step release it. Dry run only says who holds one.
 */
import { acquireDeployLock, describeHolder, peekDeployLock } from '../lock/deploy-lock.js'
import { describeLaunchTemplate } from '../snapshot/ops/template.js'
import type { DeployRun } from './pipeline.js'

export interface LockSettings {
  /** How long to wait for another deploy of the same template; 0 fails at once. */
  timeoutMs: number
  /** The longest this run may hold it: its own time budget. */
  holdMs: number
}

/**
 * Takes the lock of every template named, in id order whatever order they are named in: two
 * deploys over overlapping sets of templates then never each hold one the other waits for.
 */
export async function lockTemplates(run: DeployRun, templates: readonly string[]): Promise<void> {
  const settings = run.options.lock
  if (!settings) return
  const { clients, runtime } = run
  const ids = new Set<string>()
  for (const t of templates) ids.add((await describeLaunchTemplate(clients.ec2, t)).id)
  for (const templateId of [...ids].sort()) {
    if (run.options.dryRun) {
      const holder = await peekDeployLock(clients.ssm, templateId)
      const line =
        holder === null
          ? `Dry run: the deploy lock of ${templateId} is free; the deploy would take it.`
          : `Dry run: the deploy lock of ${templateId} is held by ${describeHolder(holder, runtime.clock.now())}; the deploy would wait up to lock-timeout for it.`
      run.result.locks.push(line)
      runtime.log.info(line)
      continue
    }
    const lock = await acquireDeployLock(
      clients.ssm,
      { templateId, run: run.options.snapshot.run, ...settings },
      runtime
    )
    run.journal.take({ kind: 'lock', ...lock })
    run.result.locks.push(`Held the deploy lock ${lock.name}.`)
  }
}
