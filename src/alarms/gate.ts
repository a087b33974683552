/**
 * The alarm gate: watches named alarms on the runtime's clock while a rollout runs and keeps the
 * first one seen firing. `stopReason()` is what RolloutHooks.shouldStop asks before each new
 * host, so no host starts once an alarm is seen; `alarmed` aborts at that moment, so a bake
 * waiting on it ends at once. An alarm that cannot be read stops the rollout too: a gate that
 * cannot see does not let hosts through.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { errorMessage } from '../errors.js'
import { type Backoff, poll, PollAbortedError } from '../poll.js'
import type { Runtime } from '../runtime.js'
import { readAlarms } from './read.js'
import { type AlarmSettings, describeAlarm, type FiredAlarm, isFiring } from './types.js'

/**
 * Alarms evaluate once a minute (10 s for high-resolution ones): a look every 10 s at most
 * sees one within a fraction of its period, for one DescribeAlarms call per 100 names.
 */
export const ALARM_BACKOFF: Partial<Backoff> = { initialMs: 1000, maxMs: 10_000, factor: 1.5 }

export class AlarmGate {
  /** The first alarm seen firing. */
  fired: FiredAlarm | undefined
  /** Why the alarms could not be read, when they could not. */
  failed: string | undefined
  private readonly trip = new AbortController()
  private watching: { stop: AbortController; loop: Promise<void> } | undefined

  constructor(
    private readonly cloudwatch: CloudWatchClient,
    readonly settings: AlarmSettings,
    private readonly runtime: Runtime,
    private readonly backoff: Partial<Backoff> = ALARM_BACKOFF
  ) {}

  /** Aborts as soon as an alarm is seen firing (or the alarms cannot be read). */
  get alarmed(): AbortSignal {
    return this.trip.signal
  }

  /** One look at every alarm; the first seen firing is kept. */
  async check(): Promise<FiredAlarm | undefined> {
    if (this.fired || this.settings.names.length === 0) return this.fired
    const states = await readAlarms(this.cloudwatch, this.settings.names)
    const firing = states.find((s) => isFiring(s.state, this.settings.insufficientData))
    if (firing && !this.fired) {
      this.fired = { ...firing, seenAt: this.runtime.clock.now() }
      this.runtime.log.error(`Stopping: ${describeAlarm(firing)}.`, { title: 'Alarm' })
      this.trip.abort()
    }
    return this.fired
  }

  /** Why no new host may start: the alarm seen firing, or alarms that could not be read. */
  stopReason(): string | undefined {
    if (this.fired) return describeAlarm(this.fired)
    if (this.failed) return `the alarms could not be read: ${this.failed}`
    return undefined
  }

  /** Starts looking at the alarms in the background until stop(), an alarm, or cancellation. */
  watch(): void {
    if (this.watching || this.settings.names.length === 0) return
    const stop = new AbortController()
    const signal = AbortSignal.any([stop.signal, this.runtime.signal])
    const loop = poll({
      label: `alarms ${this.settings.names.join(', ')}`,
      check: async () => ((await this.check()) ? { done: true, value: 0 } : { done: false }),
      timeoutMs: Number.POSITIVE_INFINITY,
      backoff: this.backoff,
      signal,
      clock: this.runtime.clock
    }).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof PollAbortedError) return
        this.failed = errorMessage(err)
        this.runtime.log.error(`The alarms could not be read: ${this.failed}`, { title: 'Alarm' })
        this.trip.abort()
      }
    )
    this.watching = { stop, loop }
  }

  /** Stops watching; resolves once the last look ended. */
  async stop(): Promise<void> {
    if (!this.watching) return
    this.watching.stop.abort()
    await this.watching.loop
  }
}
