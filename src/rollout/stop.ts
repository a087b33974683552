/**
 * When the rollout stops starting hosts: a failed gate (the primary before run-once, run-once,
 * the canary; a primary terminated before run-once ended), more fleet failures than max-errors (counted across the whole fleet), the
 * deadline, cancellation, or a reason the caller gives (the deploy stops when its snapshot failed). Asked before any new
 * host starts; hosts already running always finish.
 */
import type { Clock } from '../clock.js'
import { formatDuration } from '../duration.js'
import { isFailure, type HostResult, type Wave } from './types.js'

const GATE_FAILED: Record<Exclude<Wave['kind'], 'fleet'>, string> = {
  primary: 'the primary failed, so run-once did not run',
  'run-once': 'run-once failed on the primary',
  canary: 'the canary failed'
}

export interface StopOptions {
  maxErrors: number
  /** When the deadline passes (clock time), and how long it was, for the message. */
  deadline: number
  deadlineMs: number
  clock: Clock
  signal: AbortSignal
  /** Asked last; a reason stops the rollout like max-errors does. */
  shouldStop?: () => string | undefined
}

export class StopPolicy {
  private failures = 0
  private gate: string | undefined

  constructor(private readonly options: StopOptions) {}

  /**
   * Counts what finished: a failure in a gate stops everything, in the fleet it counts. A
   * terminated host counts nowhere, except the primary before or during run-once: run-once
   * cannot run (or finish) on a host that is gone.
   */
  record(wave: Wave, results: readonly HostResult[]): void {
    const gone = results.find((r) => r.status === 'Terminated')
    if (gone && (wave.kind === 'primary' || wave.kind === 'run-once'))
      this.gate ??= `the primary ${gone.instanceId} was terminated ${wave.kind === 'primary' ? 'before run-once, so run-once did not run' : 'during run-once'}`
    const failed = results.filter(isFailure).length
    if (failed === 0) return
    if (wave.kind === 'fleet') this.failures += failed
    else this.gate ??= GATE_FAILED[wave.kind]
  }

  /** Why no new host may start, or undefined. */
  reason(): string | undefined {
    const { maxErrors, clock, deadline, deadlineMs, signal } = this.options
    if (this.gate) return this.gate
    if (this.failures > maxErrors)
      return `${this.failures} host(s) failed, more than max-errors (${maxErrors})`
    if (clock.now() >= deadline) return `the deadline (${formatDuration(deadlineMs)}) passed`
    if (signal.aborted) return 'the rollout was cancelled'
    return this.options.shouldStop?.()
  }
}
