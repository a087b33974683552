/**
 * What a rollout flow (the rollout action's, the deploy's) does with alarms and bake time, in
 * one place: the pre-flight before any change (every alarm exists, none is firing), the watch
 * during the rollout (`shouldStop`), the bake after the canary (`afterCanary`) and the one after
 * the last host (`afterLast`), and the report. Without alarms or a bake time it does nothing.
 */
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { ActionError } from '../errors.js'
import type { Backoff } from '../poll.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import { bake, type HealthCheck } from './bake.js'
import { AlarmGate } from './gate.js'
import { readAlarms } from './read.js'
import {
  type AlarmReport,
  type AlarmSettings,
  type BakeResult,
  describeAlarm,
  isFiring
} from './types.js'

export interface GuardOptions {
  alarms?: AlarmSettings
  /** Waited after the canary and after the last host; 0 or unset: no wait. */
  bakeTimeMs?: number
  /** The hosts' target health, looked at during each bake (behind a load balancer). */
  health?: HealthCheck
  /** The watch's polling pace (tests); the default suits CloudWatch. */
  backoff?: Partial<Backoff>
}

export class RolloutGuard {
  readonly bakes: BakeResult[] = []
  private readonly gate: AlarmGate | undefined
  private health: HealthCheck | undefined

  private constructor(
    cloudwatch: CloudWatchClient,
    private readonly options: GuardOptions,
    private readonly runtime: Runtime
  ) {
    const alarms = options.alarms
    this.health = options.health
    this.gate = alarms?.names.length
      ? new AlarmGate(cloudwatch, alarms, runtime, options.backoff)
      : undefined
  }

  /**
   * Read-only, before any change: every alarm named exists, and none is firing. Returns the
   * guard and a pre-flight line, or throws naming the alarm and its reason.
   */
  static async preflight(
    cloudwatch: CloudWatchClient,
    options: GuardOptions,
    runtime: Runtime
  ): Promise<{ guard: RolloutGuard; checked?: string }> {
    const guard = new RolloutGuard(cloudwatch, options, runtime)
    const settings = options.alarms
    if (!settings?.names.length) return { guard }
    const states = await readAlarms(cloudwatch, settings.names)
    const firing = states.filter((s) => isFiring(s.state, settings.insufficientData))
    if (firing.length)
      throw new ActionError(
        `Not deploying: ${firing.map(describeAlarm).join('; ')}. Nothing was changed; deploy once the alarm is OK.`
      )
    const checked = `Alarms: ${states.length} named, none firing (${states.map((s) => `${s.name}: ${s.state}`).join(', ')}).`
    runtime.log.info(checked)
    return { guard, checked }
  }

  /** The target health to watch during the bakes, once the load-balancer plan is known. */
  watchHealth(health: HealthCheck): void {
    this.health = health
  }

  /** Starts watching the alarms (the rollout begins). */
  start(): void {
    this.gate?.watch()
  }

  /** The rollout's hooks: no new host once an alarm is seen; the bake after the canary. */
  hooks(): {
    shouldStop: () => string | undefined
    afterCanary: () => Promise<string | undefined>
  } {
    return { shouldStop: () => this.stopReason(), afterCanary: () => this.afterCanary() }
  }

  /** For RolloutHooks.shouldStop: the alarm seen firing, if any. */
  stopReason(): string | undefined {
    return this.gate?.stopReason()
  }

  /** For RolloutHooks.afterCanary: the bake after the canary; a reason stops the rollout. */
  async afterCanary(): Promise<string | undefined> {
    if (!this.options.bakeTimeMs) return this.stopReason()
    return this.bake('after the canary')
  }

  /**
   * After the last host, before anything is published: the bake (or, without one, a last look
   * at the alarms). A reason fails the rollout, as a failed health gate does.
   */
  async afterLast(rolled: RolloutResult): Promise<RolloutResult> {
    if (!rolled.ok || rolled.dryRun || (!this.gate && !this.options.bakeTimeMs)) return rolled
    const why = await this.bake('after the last host')
    return why ? { ...rolled, ok: false, stoppedReason: why } : rolled
  }

  /** Stops watching (whatever ended the rollout). */
  async stop(): Promise<void> {
    await this.gate?.stop()
  }

  /** For the results and the summary; undefined without alarms or bake time. */
  report(): AlarmReport | undefined {
    const alarms = this.options.alarms
    if (!alarms?.names.length && !this.bakes.length) return undefined
    return {
      names: [...(alarms?.names ?? [])],
      insufficientData: alarms?.insufficientData ?? 'ok',
      ...(this.gate?.fired ? { fired: this.gate.fired } : {}),
      bakes: [...this.bakes]
    }
  }

  private async bake(after: string): Promise<string | undefined> {
    const result = await bake(
      {
        after,
        bakeMs: this.options.bakeTimeMs ?? 0,
        ...(this.gate ? { gate: this.gate } : {}),
        ...(this.health ? { health: this.health } : {})
      },
      this.runtime
    )
    if (result.bakeMs > 0) this.bakes.push(result)
    return result.stoppedBy
  }
}
