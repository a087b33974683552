/**
 * Which hosts may start now. The plan's waves run in order; a wave without a window starts
 * whole once nothing runs (the gates, and discrete waves), a windowed wave opens once nothing
 * runs and then keeps up to `window` hosts running, starting one as soon as a slot frees.
 * The scheduler never decides whether to stop: the stop policy is asked before each start.
 */
import type { Wave } from './types.js'

/** Hosts of one wave that start together (one lifecycle group, one send). */
export interface Start {
  wave: Wave
  instanceIds: string[]
}

export class Scheduler {
  private index = 0
  /** How many hosts of the current windowed wave have started. */
  private offset = 0

  private readonly planned = new Map<string, Wave>()

  constructor(readonly waves: readonly Wave[]) {
    for (const w of waves) {
      if (w.kind === 'run-once') continue
      for (const id of w.instanceIds) if (!this.planned.has(id)) this.planned.set(id, w)
    }
  }

  /**
   * How the rollout waits between starts: for everything running (discrete waves free no slot
   * before the wave ends) or for the first host to finish (a window refills at once).
   */
  get until(): 'all' | 'any' {
    return this.waves.some((w) => w.window !== undefined) ? 'any' : 'all'
  }

  /** The hosts that may start now, while `running` hosts are in flight. */
  next(running: number): Start[] {
    const wave = this.waves[this.index]
    if (!wave) return []
    if (wave.window === undefined) {
      if (running > 0) return []
      this.index++
      return [{ wave, instanceIds: [...wave.instanceIds] }]
    }
    // A window opens only when the waves before it have finished (the canary is a gate).
    if (this.offset === 0 && running > 0) return []
    const count = Math.min(wave.window - running, wave.instanceIds.length - this.offset)
    if (count <= 0) return []
    const instanceIds = wave.instanceIds.slice(this.offset, this.offset + count)
    this.offset += count
    if (this.offset >= wave.instanceIds.length) {
      this.index++
      this.offset = 0
    }
    return [{ wave, instanceIds }]
  }

  /** True while some host of the plan has not started. */
  hasMore(): boolean {
    return this.index < this.waves.length
  }

  /** Whether `instanceId` runs again in a wave after `wave` (the primary around run-once). */
  followsUp(instanceId: string, wave: Wave): boolean {
    return this.waves.some((w) => w.number > wave.number && w.instanceIds.includes(instanceId))
  }

  /** The wave a host was planned in, for the result of a host that never started. */
  waveOf(instanceId: string): Wave | undefined {
    return this.planned.get(instanceId)
  }
}
