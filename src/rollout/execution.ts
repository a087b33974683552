/**
 * One rollout in motion: the loop that asks the scheduler which hosts may start, the stop
 * policy whether they may, runs the lifecycle steps around each group as tasks of their own,
 * hands the sends and the waits to the command tracker, and keeps every host's result. A
 * host holds its slot from its `before` until its `after` settled, but while it drains or
 * waits for health the loop goes on polling and starting hosts in the slots others free.
 */
import { CRITICAL_BACKOFF } from '../poll.js'
import type { Runtime } from '../runtime.js'
import { settled } from '../settled.js'
import { FullOutput, reportHosts } from './host-log.js'
import { applyStepFailures, type Lifecycle, resultSoFar, runStep } from './lifecycle.js'
import { describeWave } from './plan.js'
import type { Scheduler, Start } from './scheduler.js'
import { type Scripts, sendsFor } from './sends.js'
import type { StopPolicy } from './stop.js'
import type { CommandTracker, Waited } from './tracker.js'
import type { HostResult, Wave } from './types.js'
import { WaveResults } from './wave-results.js'

/** What the loop does once a step settled; steps never reject (a failure is this throwing). */
type Apply = () => Promise<void>

export interface ExecutionParts {
  scheduler: Scheduler
  tracker: CommandTracker
  stop: StopPolicy
  fullOutput: FullOutput
  runtime: Runtime
  scripts: Scripts
  primaryInstanceId: string
  lifecycle?: Lifecycle
  onPrimaryDone?: (result: HostResult) => void
  onWaveDone?: (wave: Wave, results: readonly HostResult[]) => void
  /** Awaited before the first host after the canary; a reason stops the rollout. */
  afterCanary?: () => Promise<string | undefined>
}

export class Execution {
  /** Each host's result (its commands; run-once is kept apart). */
  readonly results = new Map<string, HostResult>()
  runOnce: HostResult | undefined
  stoppedReason: string | undefined
  /** Hosts `before` ran for and `after` did not yet. */
  private readonly outOfService = new Set<string>()
  private readonly waveResults = new WaveResults()
  private readonly announced = new Set<number>()
  private lastWave: Wave | undefined
  private primaryNotified = false
  private canaryPassed = false
  /** Lifecycle steps in flight, each with the number of hosts it holds out of service. */
  private readonly steps = new Map<Promise<() => Apply>, number>()
  /** The tracker's wait in flight, if any (it outlives a loop turn a step ended). */
  private waiting: Promise<() => Waited> | undefined
  /**
   * While a wait is in flight, the hosts it may return: those running when it began and those
   * sent since. A host the tracker has read but the wait not yet returned is still out of
   * service, so it keeps its slot until the loop saw it.
   */
  private waitHolds = 0
  /** The loop ended: steps still in flight settle, and nothing more is sent. */
  private closing = false

  constructor(private readonly parts: ExecutionParts) {}

  /** Runs until every host finished or the rollout stopped and what ran has finished. */
  async execute(): Promise<void> {
    const { scheduler } = this.parts
    try {
      for (;;) {
        if (!this.stoppedReason && scheduler.hasMore()) await this.startReady()
        if (this.busy === 0) {
          if (this.stoppedReason || !scheduler.hasMore()) break
          continue
        }
        await this.next()
      }
    } finally {
      // Whatever ended the run, every host taken out of service goes through `after`.
      this.closing = true
      while (this.steps.size) await this.next().catch(() => undefined)
      await this.release()
    }
  }

  /** Hosts running commands or held by a lifecycle step: they occupy the slots. */
  private get busy(): number {
    let n = this.waiting ? this.waitHolds : this.parts.tracker.runningHosts
    for (const hosts of this.steps.values()) n += hosts
    return n
  }

  /** Waits for whichever comes first: hosts finishing their commands, or a step settling. */
  private async next(): Promise<void> {
    const { tracker, scheduler } = this.parts
    if (!this.waiting && tracker.runningHosts > 0) {
      // Until the primary is done, a caller that waits on it (the deploy's snapshot) gets it
      // polled tightly; a rollout alone keeps the usual pace and its API calls low.
      const critical = this.parts.onPrimaryDone !== undefined && !this.primaryNotified
      this.waitHolds = tracker.runningHosts
      this.waiting = settled(tracker.wait(scheduler.until, critical ? CRITICAL_BACKOFF : undefined))
    }
    const waiting = this.waiting
    // (No key named `then`: a promise would take the event for a thenable.)
    type Event = { step: Promise<() => Apply>; apply: () => Apply } | { waited: () => Waited }
    const event: Event = await Promise.race([
      ...(waiting ? [waiting.then((waited) => ({ waited }))] : []),
      ...[...this.steps.keys()].map((step) => step.then((apply) => ({ step, apply })))
    ])
    if ('step' in event) {
      this.steps.delete(event.step)
      return event.apply()()
    }
    this.waiting = undefined
    const waited = event.waited()
    await this.finish(waited.finished)
    if (waited.interrupted) this.stopWith(waited.interrupted)
  }

  /** Runs a lifecycle step as its own task, holding `hosts` slots until the loop applied it. */
  private spawn(hosts: number, step: () => Promise<Apply>): void {
    this.steps.set(settled(step()), hosts)
  }

  /** Starts what the scheduler allows, unless the stop policy says no. */
  private async startReady(): Promise<void> {
    const starts = this.parts.scheduler.next(this.busy)
    if (starts.length === 0) return
    const why = this.parts.stop.reason() ?? (await this.pastCanary(starts))
    if (why) return this.stopWith(why)
    for (const start of starts) await this.start(start)
  }

  /** Before the first host after the canary: the caller's hold, then the stop rules again. */
  private async pastCanary(starts: readonly Start[]): Promise<string | undefined> {
    const { afterCanary, scheduler, stop } = this.parts
    if (!afterCanary || this.canaryPassed || starts[0]?.wave.kind !== 'fleet') return undefined
    this.canaryPassed = true
    if (!scheduler.waves.some((w) => w.kind === 'canary')) return undefined
    return (await afterCanary()) ?? stop.reason()
  }

  /**
   * One group: `before` for the hosts not yet out of service (a task of its own when there is
   * one), then one send for the rest.
   */
  private async start({ wave, instanceIds }: Start): Promise<void> {
    const { runtime, lifecycle } = this.parts
    if (!this.announced.has(wave.number)) {
      this.announced.add(wave.number)
      this.parts.runtime.log.info(`Starting ${describeWave(wave)}`)
    }
    const fresh = instanceIds.filter((id) => !this.outOfService.has(id))
    if (!lifecycle?.before || fresh.length === 0) return this.started(wave, instanceIds, fresh)
    this.spawn(instanceIds.length, async () => {
      const failed = await runStep('before', lifecycle.before, fresh, fresh, runtime)
      return () => this.started(wave, instanceIds, fresh, failed)
    })
  }

  /** Once `before` ran: its failures are failed hosts; the rest are sent, unless stopped. */
  private async started(
    wave: Wave,
    instanceIds: readonly string[],
    fresh: readonly string[],
    failed = new Map<string, string>()
  ): Promise<void> {
    for (const id of fresh) this.outOfService.add(id)
    if (failed.size) {
      await this.finish(
        [...failed].map(([instanceId, reason]) => ({
          instanceId,
          status: 'Failed',
          wave: wave.number,
          reason
        }))
      )
    }
    // Stopped (deadline, cancellation) while they drained: they are released unsent.
    const stopped = this.stoppedReason || this.closing || this.parts.runtime.signal.aborted
    const go = instanceIds.filter((id) => !failed.has(id))
    if (go.length === 0 || stopped) return
    await this.send(wave, go)
    if (this.waiting) this.waitHolds += go.length
  }

  /** The script for each host; the primary's own last script is sent apart when it differs. */
  private async send(wave: Wave, ids: readonly string[]): Promise<void> {
    const { tracker, scripts, primaryInstanceId } = this.parts
    for (const { instanceIds, script } of sendsFor(wave, ids, scripts, primaryInstanceId))
      await tracker.send(wave, instanceIds, script)
  }

  /** Hosts that finished a step: output, `after` for those done with the rollout, stop rules. */
  private async finish(finished: readonly HostResult[]): Promise<void> {
    if (finished.length === 0) return
    await this.parts.fullOutput.add(finished)
    for (const wave of this.parts.scheduler.waves) {
      const results = finished.filter((r) => r.wave === wave.number)
      if (results.length) await this.finishWave(wave, results)
    }
  }

  /** Records the results; `after` (a task of its own) for the hosts done with the rollout. */
  private async finishWave(wave: Wave, results: readonly HostResult[]): Promise<void> {
    const { scheduler, lifecycle } = this.parts
    for (const r of results) {
      if (wave.kind === 'run-once') this.runOnce = r
      else this.results.set(r.instanceId, r)
    }
    // A host is done with the rollout unless it runs again (the primary before its run-once).
    const done = results.filter(
      (r) => !(r.status === 'Success' && scheduler.followsUp(r.instanceId, wave))
    )
    const ids = this.returning(done.map((r) => r.instanceId))
    if (!lifecycle?.after || ids.length === 0)
      return this.reportWave(wave, results, done, this.applyAfter(await this.runAfter(ids)))
    this.spawn(ids.length, async () => {
      const failed = await this.runAfter(ids)
      return () => this.reportWave(wave, results, done, this.applyAfter(failed))
    })
  }

  /** The group's results as `after` left them: logged, counted, and passed on. */
  private async reportWave(
    wave: Wave,
    results: readonly HostResult[],
    done: readonly HostResult[],
    changed: readonly HostResult[]
  ): Promise<void> {
    const { stop } = this.parts
    let stepResults = [...results]
    if (wave.kind !== 'run-once')
      stepResults = stepResults.map((r) => this.results.get(r.instanceId) ?? r)
    reportHosts(this.parts.runtime.log, wave, stepResults)
    stop.record(wave, stepResults)
    for (const r of changed) if (wave.kind === 'run-once') stop.record(this.waveOf(r), [r])
    this.lastWave = wave
    this.notifyPrimary(done)
    const whole = this.waveResults.add(wave, stepResults)
    if (whole) this.parts.onWaveDone?.(wave, whole)
  }

  /** Of `instanceIds`, those out of service, now no longer counted as out (they go back). */
  private returning(instanceIds: readonly string[]): string[] {
    const ids = instanceIds.filter((id) => this.outOfService.has(id))
    for (const id of ids) this.outOfService.delete(id)
    return ids
  }

  /** `after` for hosts done with the rollout: the ones it failed, with why. */
  private async runAfter(ids: readonly string[]): Promise<Map<string, string>> {
    const results = ids.map((id) => resultSoFar(this.results, id))
    const { lifecycle, runtime } = this.parts
    return runStep('after', lifecycle?.after, results, ids, runtime)
  }

  /** A host `after` named becomes failed. Returns the host results it changed. */
  private applyAfter(failed: ReadonlyMap<string, string>): HostResult[] {
    return applyStepFailures(this.results, failed)
  }

  /** Hosts still out of service when the loop ends (stopped before run-once, or an error). */
  private async release(): Promise<void> {
    const changed = this.applyAfter(await this.runAfter(this.returning([...this.outOfService])))
    for (const r of changed) this.parts.stop.record(this.waveOf(r), [r])
  }

  private waveOf(r: HostResult): Wave {
    return this.parts.scheduler.waves.find((w) => w.number === r.wave) ?? this.lastWave!
  }

  private stopWith(reason: string): void {
    this.stoppedReason ??= reason
    const after = this.lastWave ? ` after ${describeWave(this.lastWave)}` : ''
    this.parts.runtime.log.error(`Stopping the rollout${after}: ${reason}.`, {
      title: 'Rollout stopped'
    })
  }

  /**
   * Once: the primary finished everything it runs, successfully, `after` included. A caller
   * waiting on it (the deploy's snapshot) cannot have a primary that was terminated: stop.
   */
  private notifyPrimary(done: readonly HostResult[]): void {
    const { primaryInstanceId, scripts, onPrimaryDone } = this.parts
    if (this.primaryNotified || !done.some((r) => r.instanceId === primaryInstanceId)) return
    const primary = this.results.get(primaryInstanceId)
    if (primary?.status === 'Terminated' && onPrimaryDone) {
      this.primaryNotified = true
      return this.stopWith(`the primary ${primaryInstanceId} was terminated before it finished`)
    }
    if (primary?.status !== 'Success') return
    if (scripts.runOnce && this.runOnce?.status !== 'Success') return
    this.primaryNotified = true
    onPrimaryDone?.(primary)
  }
}
