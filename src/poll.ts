/**
 * The one polling helper. Every wait in the project goes through it: quick at first, then
 * backing off with jitter to a modest ceiling, within a time budget, abortable, and
 * absorbing throttling (a throttled check counts as "not yet" and slows the pace down).
 */
import { type Clock, realClock } from './clock.js'
import { ActionError, errorMessage, isThrottling } from './errors.js'
import { formatDuration } from './duration.js'

export type PollStep<T> = { done: true; value: T } | { done: false; status?: string }

export interface Backoff {
  /** First delay. */
  initialMs: number
  /** Ceiling of the delay. */
  maxMs: number
  /** Growth per attempt. */
  factor: number
  /** +/- share of each delay drawn at random, so parallel pollers do not march in step. */
  jitter: number
  /**
   * When set, no delay exceeds this share of the time waited so far (nor goes below initialMs),
   * unless AWS throttled: a short wait is seen at once, a long one at maxMs, and the calls
   * grow only with the logarithm of the wait until maxMs is reached.
   */
  share?: number
}

/** Quick first looks, never more than 2 s between looks: lag stays under the targets. */
export const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 2000, factor: 1.5, jitter: 0.2 }

/**
 * For the hops on a deploy's critical path (the primary's command the fleet waits on, the
 * snapshot the publish waits on): seen within 4% of their duration (200 ms at least), which
 * costs ~25 more calls per tenfold of waiting than DEFAULT_BACKOFF before both reach maxMs.
 */
export const CRITICAL_BACKOFF: Partial<Backoff> = { initialMs: 200, share: 0.04 }

export interface PollOptions<T> {
  /** What is awaited, for messages: "snapshot snap-0abc to complete". */
  label: string
  check: () => Promise<PollStep<T>>
  /** Budget from the first check. */
  timeoutMs: number
  backoff?: Partial<Backoff>
  signal?: AbortSignal
  clock?: Clock
  random?: () => number
  /** Called after each check that was not done (progress lines, debug logs). */
  onPending?: (status: string | undefined, attempt: number) => void
}

export class PollTimeoutError extends ActionError {
  override name = 'PollTimeoutError'
  constructor(
    readonly label: string,
    readonly elapsedMs: number,
    readonly lastStatus: string | undefined
  ) {
    super(
      `Timed out after ${formatDuration(elapsedMs)} waiting for ${label}` +
        (lastStatus ? ` (last seen: ${lastStatus})` : '')
    )
  }
}

export class PollAbortedError extends ActionError {
  override name = 'PollAbortedError'
}

/** The delay before attempt `attempt` (0-based), with jitter. */
export function backoffDelay(
  attempt: number,
  b: Backoff,
  random: () => number = Math.random
): number {
  const base = Math.min(b.maxMs, b.initialMs * b.factor ** attempt)
  const spread = base * b.jitter
  return Math.max(0, base - spread + 2 * spread * random())
}

export async function poll<T>(options: PollOptions<T>): Promise<T> {
  const clock = options.clock ?? realClock
  const random = options.random ?? Math.random
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff }
  const start = clock.now()
  let status: string | undefined
  let pace = 0 // attempts so far, plus extra steps after throttling
  let throttled = false
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted)
      throw new PollAbortedError(`Stopped waiting for ${options.label}: cancelled`)
    try {
      const step = await options.check()
      if (step.done) return step.value
      status = step.status
    } catch (err) {
      if (!isThrottling(err)) throw err
      status = `throttled: ${errorMessage(err)}`
      pace += 2
      throttled = true
    }
    options.onPending?.(status, attempt)
    const elapsed = clock.now() - start
    if (elapsed >= options.timeoutMs) throw new PollTimeoutError(options.label, elapsed, status)
    let delay = backoffDelay(pace++, backoff, random)
    if (backoff.share !== undefined && !throttled)
      delay = Math.min(delay, Math.max(backoff.initialMs, backoff.share * elapsed))
    delay = Math.min(delay, options.timeoutMs - elapsed)
    await clock.sleep(delay, options.signal)
  }
}
