/** Splits the fleet into waves: run-once on the primary, the canary, then the rest. */
import { chunk } from '../collections.js'
import type { Wave } from './types.js'

export interface WavePlanOptions {
  runOnce: boolean
  /** Hosts that run alone first (the primary first); 0 skips the canary. */
  canary: number
  /** Hosts running at once in each later wave. */
  maxConcurrency: number
}

export function planWaves(instanceIds: readonly string[], options: WavePlanOptions): Wave[] {
  const waves: Array<Omit<Wave, 'number'>> = []
  const [primary] = instanceIds
  if (options.runOnce && primary) waves.push({ kind: 'run-once', instanceIds: [primary] })
  const canary = instanceIds.slice(0, options.canary)
  if (canary.length) waves.push({ kind: 'canary', instanceIds: canary })
  const size = Math.max(1, options.maxConcurrency)
  for (const ids of chunk(instanceIds.slice(canary.length), size)) {
    waves.push({ kind: 'fleet', instanceIds: ids })
  }
  return waves.map((w, i) => ({ number: i + 1, ...w }))
}

export function describeWave(wave: Wave): string {
  const what =
    wave.kind === 'run-once'
      ? 'run-once on the primary'
      : wave.kind === 'canary'
        ? `canary, ${wave.instanceIds.length} host(s)`
        : `${wave.instanceIds.length} host(s)`
  return `wave ${wave.number} (${what})`
}
