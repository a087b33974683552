/**
 * The deploy lock: one deploy at a time per launch template, held in AWS itself so it covers
 * every workflow, repository and re-run (a workflow `concurrency:` group covers one workflow).
 *
 * The lock is an SSM parameter created without Overwrite: PutParameter is an atomic create
 * that fails with ParameterAlreadyExists while another run holds it. Its value names the run
 * that holds it, when it started and when it expires (its own deadline plus a margin), so a lock
 * left by a run that died is recognisable. Breaking one is left to a person (the message says
 * how), with one exception that cannot race: a re-run of the same workflow run takes over the
 * lock of its own earlier attempt, which GitHub has necessarily ended before starting this one.
 */
import {
  DeleteParameterCommand,
  GetParameterCommand,
  PutParameterCommand,
  type SSMClient
} from '@aws-sdk/client-ssm'
import { randomUUID } from 'node:crypto'
import { formatDuration } from '../duration.js'
import { ActionError, aws, awsErrorCode, wrapAwsError } from '../errors.js'
import { type Provenance, runUrl } from '../model/provenance.js'
import { poll, PollTimeoutError } from '../poll.js'
import type { Runtime } from '../runtime.js'

/** Every lock lives under this path; the IAM policies grant exactly it. */
export const LOCK_PATH = '/ebs-autoscale/lock'

/** What the parameter holds: who holds the lock, since when, until when at the latest. */
export interface LockHolder {
  /** Unique per acquisition: freeing deletes the parameter only while it still carries it. */
  token: string
  repository: string
  runId: string
  runAttempt: string
  runUrl: string
  sha: string
  /** ISO 8601. */
  startedAt: string
  /** ISO 8601: past this, the run that holds it has outlived its own deadline. */
  expiresAt: string
}

/** A lock this run holds; the journal records it so the post step can free it. */
export interface HeldLock {
  name: string
  token: string
  templateId: string
}

export interface AcquireOptions {
  templateId: string
  run: Provenance
  /** How long to wait for another deploy to finish; 0 fails at once. */
  timeoutMs: number
  /** How long this run may hold the lock at most (the deploy's own time budget). */
  holdMs: number
}

export const lockName = (templateId: string): string => `${LOCK_PATH}/${templateId}`

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

export function describeHolder(holder: LockHolder | undefined, now: number): string {
  if (!holder) return 'a holder this version cannot read'
  const age = formatDuration(Math.max(0, now - Date.parse(holder.startedAt)))
  const who = holder.runUrl || `${holder.repository} run ${holder.runId}`
  return `${who} (attempt ${holder.runAttempt}, commit ${holder.sha.slice(0, 12)}), started ${age} ago, expires ${holder.expiresAt}`
}

/** Takes the lock, waiting up to `timeoutMs` for the run that holds it. */
export async function acquireDeployLock(
  ssm: SSMClient,
  options: AcquireOptions,
  runtime: Runtime
): Promise<HeldLock> {
  const { clock, log } = runtime
  const name = lockName(options.templateId)
  const token = randomUUID()
  // Stamped at each attempt: a deploy that waited holds the lock for its whole deadline from
  // the moment it takes it, not from the moment it began to wait.
  const stamp = (): LockHolder => ({
    token,
    repository: options.run.repository,
    runId: options.run.runId,
    runAttempt: options.run.runAttempt,
    runUrl: runUrl(options.run),
    sha: options.run.sha,
    startedAt: new Date(clock.now()).toISOString(),
    expiresAt: new Date(clock.now() + options.holdMs).toISOString()
  })
  let mine = stamp()
  const held: HeldLock = { name, token, templateId: options.templateId }
  const started = clock.now()
  let holder: LockHolder | undefined
  let reported = ''
  try {
    await poll({
      label: `the deploy lock ${name}`,
      timeoutMs: options.timeoutMs,
      clock,
      signal: runtime.signal,
      backoff: { initialMs: 1000, maxMs: 10_000 },
      check: async () => {
        mine = stamp()
        if (await tryCreate(ssm, name, mine)) return { done: true, value: undefined }
        const current = await readHolder(ssm, name)
        if (current === null) return { done: false, status: 'freed meanwhile' }
        holder = current
        if (holder && isEarlierAttempt(holder, options.run)) {
          log.warning(
            `Taking over the lock ${name} from attempt ${holder.runAttempt} of this same run (it has ended).`
          )
          await deleteLock(ssm, name)
          return { done: false, status: 'taken over from an earlier attempt' }
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
  return held
}

/**
 * Frees the lock if it is still this run's. Safe to repeat (the post step may free what
 * the main step already freed): a missing lock, or one another run holds now, is left alone.
 */
export async function freeDeployLock(
  ssm: SSMClient,
  lock: HeldLock
): Promise<'freed' | 'not held'> {
  const holder = await readHolder(ssm, lock.name)
  if (!holder || holder.token !== lock.token) return 'not held'
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

async function tryCreate(ssm: SSMClient, name: string, holder: LockHolder): Promise<boolean> {
  try {
    await ssm.send(
      new PutParameterCommand({
        Name: name,
        Value: JSON.stringify(holder),
        Type: 'String',
        Overwrite: false,
        Description: `ebs-autoscale deploy lock, held by ${holder.runUrl || holder.runId}`.slice(
          0,
          1024
        )
      })
    )
    return true
  } catch (err) {
    if (awsErrorCode(err) === 'ParameterAlreadyExists') return false
    throw wrapAwsError(
      'PutParameter',
      err,
      'the deploy lock is an SSM parameter under /ebs-autoscale/lock/: the role needs ssm:PutParameter, ssm:GetParameter and ssm:DeleteParameter there (examples/iam)'
    )
  }
}

/** The holder; `null` when there is no lock any more; `undefined` when its value is unreadable. */
async function readHolder(ssm: SSMClient, name: string): Promise<LockHolder | null | undefined> {
  try {
    const out = await ssm.send(new GetParameterCommand({ Name: name }))
    return parseHolder(out.Parameter?.Value)
  } catch (err) {
    if (awsErrorCode(err) === 'ParameterNotFound') return null
    throw wrapAwsError('GetParameter', err)
  }
}

export function parseHolder(value: string | undefined): LockHolder | undefined {
  try {
    const v = JSON.parse(value ?? '') as Partial<LockHolder>
    return typeof v.token === 'string' && typeof v.startedAt === 'string'
      ? (v as LockHolder)
      : undefined
  } catch {
    return undefined
  }
}

/** GitHub starts attempt n+1 of a run only after attempt n ended: its lock is stale. */
function isEarlierAttempt(holder: LockHolder, run: Provenance): boolean {
  return (
    !!run.runId &&
    holder.repository === run.repository &&
    holder.runId === run.runId &&
    Number(holder.runAttempt) < Number(run.runAttempt)
  )
}

async function deleteLock(ssm: SSMClient, name: string): Promise<void> {
  try {
    await aws('DeleteParameter', ssm.send(new DeleteParameterCommand({ Name: name })))
  } catch (err) {
    if (awsErrorCode(err) !== 'ParameterNotFound') throw err
  }
}
