/**
 * What every long-running piece of the core needs from its caller, made once in the adapter and
 * handed down: time (real, or virtual in tests and benchmarks), cancellation (the runner's
 * SIGINT/SIGTERM) and the log. Every wait takes `signal`, so a cancelled run stops promptly and
 * still writes its summary.
 */
import { type Clock, realClock } from './clock.js'
import { type Log, silentLog } from './log.js'

export interface Runtime {
  readonly clock: Clock
  readonly signal: AbortSignal
  readonly log: Log
}

/** A runtime with the real clock, a signal that never aborts and a silent log, unless given. */
export function makeRuntime(parts: Partial<Runtime> = {}): Runtime {
  return {
    clock: parts.clock ?? realClock,
    signal: parts.signal ?? new AbortController().signal,
    log: parts.log ?? silentLog
  }
}
