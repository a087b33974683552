/**
 * The deploy lock: one deploy at a time per launch template, held in AWS itself so it covers
 * every workflow, repository and re-run (a workflow `concurrency:` group covers one workflow).
 *
 * The lock is an SSM parameter created without Overwrite: PutParameter is an atomic create
 * that fails with ParameterAlreadyExists while another run holds it. Its value (holder.ts) names
 * the run that holds it with a token, when it started, when it expires and when it was last
 * renewed, and records what that run still holds. So:
 * - a create whose answer was lost (the SDK retried it and the retry found the parameter) is
 *   recognised by its token as this run's own;
 * - a lock whose run died (its heartbeat stopped for `staleMs`, or past its deadline), or left by
 *   an earlier attempt of this same run, is taken over: the dead run's cleanup is finished first
 *   from its record (`takeOver`), then the lock is replaced. Breaking one by hand is left for a
 *   lock a version without a heartbeat left, or a cleanup that keeps failing.
 */
import type { SSMClient } from '@aws-sdk/client-ssm'
import { randomUUID } from 'node:crypto'
import { formatDuration } from '../duration.js'
import { ActionError, errorMessage } from '../errors.js'
import { type Provenance, runUrl } from '../model/provenance.js'
import { poll, PollTimeoutError } from '../poll.js'
import type { Runtime } from '../runtime.js'
import {
  deadBecause,
  describeHolder,
  type HeldLock,
  isEarlierAttempt,
  LOCK_PATH,
  type LockHolder,
  type LockRecord,
  lockName
} from './holder.js'
import { deleteLock, readHolder, tryCreate } from './parameter.js'

export { describeHolder, LOCK_PATH, lockName, parseHolder } from './holder.js'
export type { HeldLock, LockHolder, LockRecord } from './holder.js'

export interface AcquireOptions {
  templateId: string
  run: Provenance
  /** How long to wait for another deploy to finish; 0 fails at once. */
  timeoutMs: number
  /** How long this run may hold the lock at most (the deploy's own time budget). */
  holdMs: number
  /** A lock not renewed for this long is a dead run's; undefined: only an earlier attempt's is. */
  staleMs?: number
  /**
   * Finishes a dead run's cleanup from its lock's record before the lock is taken over; answers
   * what it did, a line each. It throws when something could not be settled: the lock stays.
   */
  takeOver?: (holder: LockHolder, why: string) => Promise<string[]>
  /** How long a lock taken after waiting is watched before it counts as this run's (SETTLE_MS). */
  settleMs?: number
}

/**
 * A lock taken after another run held it is read back after this long: a run taking over the
 * same dead lock reads it, then deletes it only if still the dead run's, but its delete may
 * land late (the SDK retrying it) and remove this run's lock instead. There is no conditional
 * delete in SSM. A delete later than this is found by the run's next write of its lock (the
 * heartbeat warns; a host about to leave service awaits that write, so it stays in service).
 */
export const SETTLE_MS = 2000

/** The lock taken: its value as written (the keeper rewrites it), and any takeover's lines. */
export interface AcquiredLock extends HeldLock {
  holder: LockHolder
  lines: string[]
}

export class LockHeldError extends ActionError {
  override name = 'LockHeldError'
  constructor(
    readonly lock: string,
    readonly holder: LockHolder | undefined,
    waitedMs: number,
    now: number
  ) {
    super(
      `Another deploy holds the lock of launch template ${lock.slice(LOCK_PATH.length + 1)}: ${describeHolder(holder, now)}. ` +
        `Waited ${formatDuration(waitedMs)} (lock-timeout). ` +
        `If that run has ended (it is ${holder && Date.parse(holder.expiresAt) < now ? 'past its own deadline, so it died or hangs' : 'still within its own deadline'}), ` +
        `break the lock with: aws ssm delete-parameter --name ${lock}`
    )
  }
}

/** Takes the lock, waiting up to `timeoutMs` for the run that holds it. */
export async function acquireDeployLock(
  ssm: SSMClient,
  options: AcquireOptions,
  runtime: Runtime
): Promise<AcquiredLock> {
  const { clock, log } = runtime
  const name = lockName(options.templateId)
  const token = randomUUID()
  // Stamped at each attempt: a deploy that waited holds the lock for its whole deadline from
  // the moment it takes it, not from the moment it began to wait.
  const stamp = (): LockHolder => holderOf(token, options, clock.now())
  let mine = stamp()
  const lines: string[] = []
  const started = clock.now()
  let holder: LockHolder | undefined
  let reported = ''
  // Another run held it during this wait: a concurrent takeover may delete what this run creates.
  let contested = false
  try {
    await poll({
      label: `the deploy lock ${name}`,
      timeoutMs: options.timeoutMs,
      clock,
      signal: runtime.signal,
      backoff: { initialMs: 1000, maxMs: 10_000 },
      check: async () => {
        mine = stamp()
        if (await tryCreate(ssm, name, mine)) {
          if (!contested || (await stillMine(ssm, name, token, options, runtime)))
            return { done: true, value: undefined }
          return { done: false, status: 'replaced by a concurrent takeover' }
        }
        contested = true
        const current = await readHolder(ssm, name)
        if (current === null) return { done: false, status: 'freed meanwhile' }
        if (current?.token === token) {
          // The create took effect, its answer was lost, and the SDK's retry found it.
          log.info(
            `The deploy lock ${name} carries this run's token: PutParameter took effect, its answer was lost and the retry found it.`
          )
          mine = current
          return { done: true, value: undefined }
        }
        holder = current
        const dead = holder && whyDead(holder, options, clock.now())
        if (holder && dead) {
          lines.push(...(await takeOverLock(ssm, name, holder, dead, options, runtime)))
          return { done: false, status: 'taken over from a dead run' }
        }
        const line = `Waiting for the deploy lock of ${options.templateId}: held by ${describeHolder(holder, clock.now())}`
        if (line !== reported) log.info(line)
        reported = line
        return { done: false, status: 'held by another run' }
      }
    })
  } catch (err) {
    if (err instanceof PollTimeoutError)
      throw new LockHeldError(name, holder, clock.now() - started, clock.now())
    throw err
  }
  log.info(`Holding the deploy lock ${name} (until ${mine.expiresAt} at the latest).`)
  return { name, token, templateId: options.templateId, holder: mine, lines }
}

/** True when the lock just created still carries this run's token once SETTLE_MS passed. */
async function stillMine(
  ssm: SSMClient,
  name: string,
  token: string,
  options: AcquireOptions,
  runtime: Runtime
): Promise<boolean> {
  await runtime.clock.sleep(options.settleMs ?? SETTLE_MS, runtime.signal)
  if ((await readHolder(ssm, name))?.token === token) return true
  runtime.log.warning(
    `The deploy lock ${name} was replaced right after this run took it (another run took over the same dead lock at the same moment): waiting again.`
  )
  return false
}

/** What the lock's value says of this run, as of `now`. */
function holderOf(token: string, options: AcquireOptions, now: number): LockHolder {
  const at = new Date(now).toISOString()
  return {
    token,
    repository: options.run.repository,
    runId: options.run.runId,
    runAttempt: options.run.runAttempt,
    runUrl: runUrl(options.run),
    sha: options.run.sha,
    startedAt: at,
    expiresAt: new Date(now + options.holdMs).toISOString(),
    renewedAt: at
  }
}

function whyDead(holder: LockHolder, options: AcquireOptions, now: number): string | undefined {
  if (isEarlierAttempt(holder, options.run))
    return `attempt ${holder.runAttempt} of this same run (it has ended)`
  return options.staleMs !== undefined ? deadBecause(holder, now, options.staleMs) : undefined
}

/** Finishes the dead run's cleanup from its record, then deletes its lock (if still its). */
async function takeOverLock(
  ssm: SSMClient,
  name: string,
  holder: LockHolder,
  why: string,
  options: AcquireOptions,
  runtime: Runtime
): Promise<string[]> {
  const { log, clock } = runtime
  log.warning(
    why.startsWith('attempt ')
      ? `Taking over the lock ${name} from ${why}.`
      : `Taking over the lock ${name} from a dead run, ${describeHolder(holder, clock.now())}: ${why}.`
  )
  let lines: string[]
  try {
    lines = (await options.takeOver?.(holder, why)) ?? []
  } catch (err) {
    throw new ActionError(
      `Could not finish the cleanup of the dead run that holds the deploy lock ${name}, so the lock is left to it: ${errorMessage(err)}`
    )
  }
  // Deleted only while it is still the dead run's: another deploy may have taken over first.
  if ((await readHolder(ssm, name))?.token === holder.token) await deleteLock(ssm, name)
  return [
    `Took over the deploy lock ${name} from ${holder.runUrl || holder.runId}: ${why}.`,
    ...lines
  ]
}

/**
 * Frees the lock if it is still this run's. Safe to repeat (the post step may free what
 * the main step already freed): a missing lock, or one another run holds now, is left alone.
 * With `finish`, what its record still lists is settled first; `finish` throws when something
 * could not be, and the lock then stays, its record with it, for the post step or the next run.
 */
export async function freeDeployLock(
  ssm: SSMClient,
  lock: HeldLock,
  finish?: (record: LockRecord) => Promise<void>
): Promise<'freed' | 'not held'> {
  const holder = await readHolder(ssm, lock.name)
  if (!holder || holder.token !== lock.token) return 'not held'
  if (finish && holder.record) await finish(holder.record)
  await deleteLock(ssm, lock.name)
  return 'freed'
}

/** Who holds the lock of a template now, read only (dry run): null when nobody does. */
export async function peekDeployLock(
  ssm: SSMClient,
  templateId: string
): Promise<LockHolder | null | undefined> {
  return readHolder(ssm, lockName(templateId))
}
