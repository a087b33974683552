/**
 * The deploy's locks: one per launch template it publishes to (src/lock/deploy-lock.ts), taken
 * once the templates are known and before anything reads their default version, so a deploy
 * that waited reads the default the previous deploy left. Each lock goes into the journal as it
 * is taken: the run's `finally` and the post step free it. Dry run only says who holds one.
 */
import { acquireDeployLock, describeHolder, peekDeployLock } from '../lock/deploy-lock.js'
import { describeLaunchTemplate } from '../snapshot/ops/template.js'
import type { DeployContext } from './context.js'

/**
 * Takes the lock of every template named, in id order whatever order they are named in: two
 * deploys over overlapping sets of templates then never each hold one the other waits for.
 */
export async function lockTemplates(
  ctx: DeployContext,
  templates: readonly string[]
): Promise<string[]> {
  const settings = ctx.options.lock
  const lines: string[] = []
  if (!settings) return lines
  const { clients, runtime } = ctx
  const ids = new Set<string>()
  for (const t of templates) ids.add((await describeLaunchTemplate(clients.ec2, t)).id)
  for (const templateId of [...ids].sort()) {
    if (ctx.options.dryRun) {
      const holder = await peekDeployLock(clients.ssm, templateId)
      const line =
        holder === null
          ? `Dry run: the deploy lock of ${templateId} is free; the deploy would take it.`
          : `Dry run: the deploy lock of ${templateId} is held by ${describeHolder(holder, runtime.clock.now())}; the deploy would wait up to lock-timeout for it.`
      lines.push(line)
      runtime.log.info(line)
      continue
    }
    const lock = await acquireDeployLock(
      clients.ssm,
      { templateId, run: ctx.options.snapshot.run, ...settings },
      runtime
    )
    const { name, token } = lock
    ctx.journal.take({ kind: 'lock', name, token, templateId })
    lines.push(...lock.lines, `Held the deploy lock ${lock.name}.`)
  }
  return lines
}
