/**
 * The deploy's locks: one per launch template it publishes to (src/lock/deploy-lock.ts), taken
 * once the templates are known and before anything reads their default version, so a deploy
 * that waited reads the default the previous deploy left. Each lock goes into the journal as it
 * is taken, and from the first one on, the journal is recorded in the locks themselves
 * (src/held/lock-keeper.ts), renewed by a heartbeat: the run's `finally`, the post step, or the
 * next deploy after this run died, settle what it held from there. A lock whose run died is
 * taken over once that run's cleanup is finished. Dry run only says who holds one.
 */
import { errorMessage } from '../errors.js'
import { LockKeeper } from '../held/lock-keeper.js'
import { recordSettlers } from '../held/publish-settlers.js'
import { settleRecord } from '../held/record.js'
import {
  acquireDeployLock,
  describeHolder,
  type LockHolder,
  peekDeployLock
} from '../lock/deploy-lock.js'
import { describeLaunchTemplate } from '../snapshot/ops/template.js'
import type { DeployContext } from './context.js'

/**
 * Takes the lock of every template named, in id order whatever order they are named in: two
 * deploys over overlapping sets of templates then never each hold one the other waits for.
 */
export async function lockTemplates(
  ctx: DeployContext,
  templates: readonly string[],
  /** Told of the hosts a dead run left out of service, registered again by its cleanup. */
  onRestored?: (instanceIds: readonly string[]) => void
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
    const { timeoutMs, holdMs, heartbeat } = settings
    const lock = await acquireDeployLock(
      clients.ssm,
      {
        templateId,
        run: ctx.options.snapshot.run,
        timeoutMs,
        holdMs,
        ...(heartbeat ? { staleMs: heartbeat.staleMs } : {}),
        takeOver: (holder, why) => finishDeadRun(ctx, holder, why, onRestored)
      },
      runtime
    )
    const { name, token } = lock
    ctx.journal.take({ kind: 'lock', name, token, templateId })
    ctx.keepers.add(new LockKeeper(clients.ssm, lock, runtime, heartbeat?.renewMs))
    lines.push(...lock.lines, `Held the deploy lock ${lock.name}.`)
  }
  if (ctx.keepers.size) {
    ctx.journal.attach(ctx.keepers)
    await ctx.journal.flush()
  }
  return lines
}

/**
 * A dead run's cleanup, from its lock's record: hosts it left out of service registered again
 * (they are in this deploy's hosts, so they get the new code with the rest), its commands
 * cancelled, its snapshot tagged failed.
 */
async function finishDeadRun(
  ctx: DeployContext,
  holder: LockHolder,
  why: string,
  onRestored?: (instanceIds: readonly string[]) => void
): Promise<string[]> {
  const { log } = ctx.runtime
  const who = holder.runUrl || `run ${holder.runId}`
  const reason = `the deploy that made it (${who}) died (${why}); a later run finished its cleanup`
  const settled = await settleRecord(holder.record, recordSettlers(ctx.clients, reason)).catch(
    (err: unknown) => {
      log.error(`The cleanup of ${who} failed: ${errorMessage(err)}`, { title: 'Dead run' })
      throw err
    }
  )
  for (const s of settled) log.info(`Cleaning up after ${who}: ${s.outcome}`)
  onRestored?.(
    settled.flatMap((s) => (s.ok && s.held.kind === 'out-of-service' ? [s.held.instanceId] : []))
  )
  return settled.map((s) => `Cleaning up after ${who}: ${s.outcome}`)
}
