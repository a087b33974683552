/**
 * One rollout in motion: the loop that asks the scheduler which hosts may start, the stop
 * policy whether they may, awaits the lifecycle steps around each group, hands the sends and
 * the waits to the command tracker, and keeps every host's result.
 */
import type { Log } from '../log.js'
import { CRITICAL_BACKOFF } from '../poll.js'
import type { Runtime } from '../runtime.js'
import { FullOutput, reportHosts } from './host-log.js'
import { failedByStep, type Lifecycle, runStep } from './lifecycle.js'
import { describeWave } from './plan.js'
import type { Scheduler, Start } from './scheduler.js'
import type { StopPolicy } from './stop.js'
import type { CommandTracker } from './tracker.js'
import type { HostResult, Wave } from './types.js'

export interface ExecutionParts {
  scheduler: Scheduler
  tracker: CommandTracker
  stop: StopPolicy
  fullOutput: FullOutput
  runtime: Runtime
  /** `primaryLast`: replaces the primary's last script (run-once, else its commands). */
  scripts: {
    commands: readonly string[]
    runOnce?: readonly string[]
    primaryLast?: readonly string[]
  }
  primaryInstanceId: string
  lifecycle?: Lifecycle
  onPrimaryDone?: (result: HostResult) => void
  onWaveDone?: (wave: Wave, results: readonly HostResult[]) => void
}

export class Execution {
  /** Each host's result (its commands; run-once is kept apart). */
  readonly results = new Map<string, HostResult>()
  runOnce: HostResult | undefined
  stoppedReason: string | undefined
  /** Hosts `before` ran for and `after` did not yet. */
  private readonly outOfService = new Set<string>()
  private readonly waveResults = new Map<number, HostResult[]>()
  private readonly announced = new Set<number>()
  private lastWave: Wave | undefined
  private primaryNotified = false

  constructor(private readonly parts: ExecutionParts) {}

  private get log(): Log {
    return this.parts.runtime.log
  }

  /** Runs until every host finished or the rollout stopped and what ran has finished. */
  async execute(): Promise<void> {
    const { scheduler, tracker } = this.parts
    try {
      for (;;) {
        if (!this.stoppedReason && scheduler.hasMore()) await this.startReady()
        if (tracker.runningHosts === 0) {
          if (this.stoppedReason || !scheduler.hasMore()) break
          continue
        }
        // Until the primary is done, a caller that waits on it (the deploy's snapshot) gets it
        // polled tightly; a rollout alone keeps the usual pace and its API calls low.
        const critical = this.parts.onPrimaryDone !== undefined && !this.primaryNotified
        const waited = await tracker.wait(scheduler.until, critical ? CRITICAL_BACKOFF : undefined)
        await this.finish(waited.finished)
        if (waited.interrupted) this.stopWith(waited.interrupted)
      }
    } finally {
      // Whatever ended the run, every host taken out of service goes through `after`.
      await this.release()
    }
  }

  /** Starts what the scheduler allows, unless the stop policy says no. */
  private async startReady(): Promise<void> {
    const starts = this.parts.scheduler.next(this.parts.tracker.runningHosts)
    if (starts.length === 0) return
    const why = this.parts.stop.reason()
    if (why) return this.stopWith(why)
    for (const start of starts) await this.start(start)
  }

  /** One group: `before` for the hosts not yet out of service, then one send for the rest. */
  private async start({ wave, instanceIds }: Start): Promise<void> {
    const { runtime, lifecycle } = this.parts
    if (!this.announced.has(wave.number)) {
      this.announced.add(wave.number)
      this.log.info(`Starting ${describeWave(wave)}`)
    }
    const fresh = instanceIds.filter((id) => !this.outOfService.has(id))
    const failed = await runStep('before', lifecycle?.before, fresh, fresh, runtime)
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
    const go = instanceIds.filter((id) => !failed.has(id))
    if (go.length) await this.send(wave, go)
  }

  /** The script for each host; the primary's own last script is sent apart when it differs. */
  private async send(wave: Wave, ids: readonly string[]): Promise<void> {
    const { tracker, scripts, primaryInstanceId: primary } = this.parts
    if (wave.kind === 'run-once')
      return tracker.send(wave, ids, scripts.primaryLast ?? scripts.runOnce!)
    if (!scripts.primaryLast || scripts.runOnce || !ids.includes(primary))
      return tracker.send(wave, ids, scripts.commands)
    await tracker.send(wave, [primary], scripts.primaryLast)
    const rest = ids.filter((id) => id !== primary)
    if (rest.length) await tracker.send(wave, rest, scripts.commands)
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

  private async finishWave(wave: Wave, results: readonly HostResult[]): Promise<void> {
    const { scheduler, stop } = this.parts
    let stepResults = [...results]
    for (const r of stepResults) {
      if (wave.kind === 'run-once') this.runOnce = r
      else this.results.set(r.instanceId, r)
    }
    // A host is done with the rollout unless it runs again (the primary before its run-once).
    const done = stepResults.filter(
      (r) => !(r.status === 'Success' && scheduler.followsUp(r.instanceId, wave))
    )
    const changed = await this.after(done.map((r) => r.instanceId))
    if (wave.kind !== 'run-once')
      stepResults = stepResults.map((r) => this.results.get(r.instanceId) ?? r)
    reportHosts(this.log, wave, stepResults)
    stop.record(wave, stepResults)
    for (const r of changed) if (wave.kind === 'run-once') stop.record(this.waveOf(r), [r])
    this.lastWave = wave
    this.notifyPrimary(done)
    this.waveFinished(wave, stepResults)
  }

  /**
   * `after` for hosts done with the rollout; a host it names becomes failed. Returns the host
   * results it changed.
   */
  private async after(instanceIds: readonly string[]): Promise<HostResult[]> {
    const ids = instanceIds.filter((id) => this.outOfService.has(id))
    if (ids.length === 0) return []
    for (const id of ids) this.outOfService.delete(id)
    const results = ids.map(
      (id): HostResult =>
        this.results.get(id) ?? { instanceId: id, status: 'Skipped', reason: 'not sent' }
    )
    const { lifecycle, runtime } = this.parts
    const failed = await runStep('after', lifecycle?.after, results, ids, runtime)
    const changed: HostResult[] = []
    for (const r of results) {
      const reason = failed.get(r.instanceId)
      if (reason === undefined) continue
      const updated = failedByStep(r, reason)
      this.results.set(r.instanceId, updated)
      changed.push(updated)
    }
    return changed
  }

  /** Hosts still out of service when the loop ends (stopped before run-once, or an error). */
  private async release(): Promise<void> {
    const changed = await this.after([...this.outOfService])
    for (const r of changed) this.parts.stop.record(this.waveOf(r), [r])
  }

  private waveOf(r: HostResult): Wave {
    return this.parts.scheduler.waves.find((w) => w.number === r.wave) ?? this.lastWave!
  }

  private stopWith(reason: string): void {
    this.stoppedReason ??= reason
    const after = this.lastWave ? ` after ${describeWave(this.lastWave)}` : ''
    this.log.error(`Stopping the rollout${after}: ${reason}.`, { title: 'Rollout stopped' })
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

  private waveFinished(wave: Wave, results: readonly HostResult[]): void {
    const all = [...(this.waveResults.get(wave.number) ?? []), ...results]
    this.waveResults.set(wave.number, all)
    if (all.length < wave.instanceIds.length) return
    const order = new Map(wave.instanceIds.map((id, i) => [id, i]))
    all.sort((a, b) => order.get(a.instanceId)! - order.get(b.instanceId)!)
    this.parts.onWaveDone?.(wave, all)
  }
}
