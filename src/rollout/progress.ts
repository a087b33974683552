/**
 * The rollout's progress line, "7/10 hosts done, 1 failed": the hosts reported finished, plus
 * those SSM already counts as completed (or failed) in a running command whose results are not
 * read yet. Logged when it changed, at most every PROGRESS_EVERY_MS unless forced.
 */
import type { Runtime } from '../runtime.js'

/** Progress lines at most this often. */
const PROGRESS_EVERY_MS = 10_000

/** What the line reads of one running command. */
export interface CommandProgress {
  /** False for run-once: an extra step on the primary, not a host. */
  counts: boolean
  /** Hosts reported finished, and how many of them failed. */
  reported: ReadonlySet<string>
  reportedFailed: number
  /** SSM's counts at the last look: hosts completed, hosts failed or undelivered. */
  completed: number
  errors: number
}

export class ProgressLine {
  private done = 0
  private failed = 0
  private lastLine = ''
  private lastAt = -Infinity

  constructor(
    private readonly runtime: Pick<Runtime, 'clock' | 'log'>,
    private readonly totalHosts: number
  ) {}

  /** A host reported finished (run-once's, which is no host, are not counted). */
  hostDone(failed: boolean): void {
    this.done++
    if (failed) this.failed++
  }

  /** Logs the line for `running`, the commands not finished yet: see the header. */
  report(running: Iterable<CommandProgress>, force = false): void {
    const { clock, log } = this.runtime
    let done = this.done
    let failed = this.failed
    for (const t of running) {
      if (!t.counts) continue
      done += Math.max(0, t.completed - t.reported.size)
      failed += Math.max(0, t.errors - t.reportedFailed)
    }
    const line = `${done}/${this.totalHosts} hosts done, ${failed} failed`
    if (line === this.lastLine) return
    if (!force && clock.now() - this.lastAt < PROGRESS_EVERY_MS) return
    this.lastLine = line
    this.lastAt = clock.now()
    log.info(line)
  }
}
