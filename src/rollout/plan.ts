/**
 * The plan: which hosts run what, in which order. Two policies share the gates (the primary's
 * commands then run-once on it, the canary) and differ in the rest of the fleet: discrete waves of max-concurrency
 * hosts, each waiting for the slowest host of the one before, or one sliding window where a
 * host starts as soon as another finishes.
 */
import { chunk } from '../collections.js'
import type { Wave } from './types.js'

export type SchedulePolicy = 'waves' | 'window'

export interface WavePlanOptions {
  runOnce: boolean
  /** Hosts that run alone first (the primary first); 0 skips the canary. */
  canary: number
  /** Hosts running at once after the canary. */
  maxConcurrency: number
  /** Discrete waves (the default) or a sliding window. */
  policy?: SchedulePolicy
}

export function planWaves(instanceIds: readonly string[], options: WavePlanOptions): Wave[] {
  const waves: Array<Omit<Wave, 'number'>> = []
  const [primary] = instanceIds
  const canary = instanceIds.slice(0, options.canary)
  let rest = instanceIds.slice(canary.length)
  if (options.runOnce && primary) {
    // Capistrano's order: the primary gets the new code, then migrates; only then the others.
    waves.push({ kind: canary.length ? 'canary' : 'primary', instanceIds: [primary] })
    waves.push({ kind: 'run-once', instanceIds: [primary] })
    if (canary.length > 1) waves.push({ kind: 'canary', instanceIds: canary.slice(1) })
    rest = instanceIds.slice(Math.max(1, canary.length))
  } else if (canary.length) waves.push({ kind: 'canary', instanceIds: canary })
  const size = Math.max(1, options.maxConcurrency)
  if (options.policy === 'window') {
    if (rest.length) waves.push({ kind: 'fleet', instanceIds: rest, window: size })
  } else {
    for (const ids of chunk(rest, size)) waves.push({ kind: 'fleet', instanceIds: ids })
  }
  return waves.map((w, i) => ({ number: i + 1, ...w }))
}

export function describeWave(wave: Wave): string {
  const what =
    wave.kind === 'run-once'
      ? 'run-once on the primary'
      : wave.kind === 'primary'
        ? 'the primary, before run-once'
        : wave.kind === 'canary'
          ? `canary, ${wave.instanceIds.length} host(s)`
          : wave.window !== undefined && wave.window < wave.instanceIds.length
            ? `${wave.instanceIds.length} host(s), up to ${wave.window} at once`
            : `${wave.instanceIds.length} host(s)`
  return `wave ${wave.number} (${what})`
}
