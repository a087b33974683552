/**
 * Each wave's results, gathered as its hosts finish (a sliding window reads them a few at a
 * time), and handed on once every host of the wave has one, in the wave's order.
 */
import type { HostResult, Wave } from './types.js'

export class WaveResults {
  private readonly byWave = new Map<number, HostResult[]>()

  /** Adds `results` to their wave; returns all of the wave's once it has one per host. */
  add(wave: Wave, results: readonly HostResult[]): HostResult[] | undefined {
    const all = [...(this.byWave.get(wave.number) ?? []), ...results]
    this.byWave.set(wave.number, all)
    if (all.length < wave.instanceIds.length) return undefined
    const order = new Map(wave.instanceIds.map((id, i) => [id, i]))
    all.sort((a, b) => order.get(a.instanceId)! - order.get(b.instanceId)!)
    return all
  }
}
