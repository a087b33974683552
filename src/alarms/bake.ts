/**
 * Bake time: a wait after the canary and after the last host, during which the alarms (and,
 * behind a load balancer, the hosts' target health) must stay quiet. It ends early, with the
 * reason, the moment the gate sees an alarm, a health look finds a bad target, or the run is
 * cancelled. Each bake starts with a fresh look at the alarms, so a bake of 0 is one last check.
 */
import { formatDuration } from '../duration.js'
import { errorMessage } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { AlarmGate } from './gate.js'
import type { BakeResult } from './types.js'

/** Why a host's targets are not healthy now, or undefined. */
export type HealthCheck = () => Promise<string | undefined>

export interface BakeOptions {
  /** What it follows, for the log and the summary: `after the canary`. */
  after: string
  bakeMs: number
  gate?: AlarmGate
  health?: HealthCheck
  /** How often the health is looked at; default 10 s. */
  healthEveryMs?: number
}

export async function bake(options: BakeOptions, runtime: Runtime): Promise<BakeResult> {
  const { clock, signal, log } = runtime
  const { gate, health, bakeMs, after } = options
  const started = clock.now()
  const end = started + bakeMs
  if (bakeMs > 0) log.info(`Baking ${formatDuration(bakeMs)} ${after}, watching the alarms.`)
  let why = await look(gate, health)
  while (!why && !signal.aborted && clock.now() < end) {
    const left = end - clock.now()
    const wait = health ? Math.min(left, options.healthEveryMs ?? 10_000) : left
    // The gate's own watch looks at the alarms; its signal ends the sleep the moment one fires.
    await clock.sleep(wait, AbortSignal.any(gate ? [signal, gate.alarmed] : [signal]))
    if (signal.aborted) break
    why = gate?.stopReason() ?? (clock.now() < end ? await look(undefined, health) : undefined)
  }
  // The time ran out: one last fresh look, so what fired since the last look is not missed.
  if (!why && !signal.aborted && bakeMs > 0) why = await look(gate, health)
  if (!why && signal.aborted) why = 'the run was cancelled'
  const waitedMs = clock.now() - started
  if (why) log.error(`Bake ${after} ended after ${formatDuration(waitedMs)}: ${why}.`)
  else if (bakeMs > 0) log.info(`Baked ${formatDuration(waitedMs)} ${after}: all quiet.`)
  return { after, bakeMs, waitedMs, ...(why ? { stoppedBy: why } : {}) }
}

/** A fresh look at the alarms, then the health; a look that fails is a reason to stop. */
async function look(gate?: AlarmGate, health?: HealthCheck): Promise<string | undefined> {
  try {
    await gate?.check()
    return gate?.stopReason() ?? (await health?.())
  } catch (err) {
    return `the alarms or the target health could not be read: ${errorMessage(err)}`
  }
}
