/** Virtual time for tests and benchmarks: state machines run on it in microseconds. */

/** A clock that moves only when someone sleeps: whole rollouts run in microseconds. */
export class VirtualClock {
  private t: number
  readonly sleeps: number[] = []
  private timers: Array<{ at: number; fn: () => void }> = []
  constructor(start = Date.parse('2026-01-01T00:00:00Z')) {
    this.t = start
  }
  now(): number {
    return this.t
  }
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms)
    if (!signal?.aborted) this.t += ms
    for (const timer of this.timers.filter((x) => x.at <= this.t)) timer.fn()
    this.timers = this.timers.filter((x) => x.at > this.t)
    await Promise.resolve()
  }
  /** Runs `fn` once virtual time reaches `at` (checked whenever someone sleeps). */
  at(at: number, fn: () => void): void {
    this.timers.push({ at, fn })
  }
}
