/** How long each phase of the deploy took; phases may overlap (the snapshot runs beside the rollout). */
import type { Clock } from '../clock.js'

export interface PhaseTiming {
  name: string
  startedAt: number
  endedAt?: number
}

export class Phases {
  readonly timings: PhaseTiming[] = []
  /** The first phase whose body threw, if any. */
  threw?: string
  constructor(private readonly clock: Clock) {}

  async run<T>(name: string, body: () => Promise<T>): Promise<T> {
    const timing: PhaseTiming = { name, startedAt: this.clock.now() }
    this.timings.push(timing)
    try {
      return await body()
    } catch (err) {
      this.threw ??= name
      throw err
    } finally {
      timing.endedAt = this.clock.now()
    }
  }

  get(name: string): PhaseTiming | undefined {
    return this.timings.find((t) => t.name === name)
  }
}
