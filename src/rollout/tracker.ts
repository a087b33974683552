/**
 * The command tracker: everything the rollout has in flight on SSM. It sends (50 hosts a
 * command; a group is all or nothing, so batches already sent are cancelled when a later one
 * cannot be), waits out the moment a new command is not visible yet, polls with one
 * ListCommands call for all running commands, reads results 50 hosts a call, cancels what
 * still runs at the deadline or on cancellation, and logs progress (progress.ts). Hosts that went
 * away (gone.ts) end Terminated: looked at every STATE_CHECK_EVERY_MS while they run, and when
 * they end badly.
 */
import type { SSMClient } from '@aws-sdk/client-ssm'
import { awsErrorCode, errorMessage } from '../errors.js'
import { type Backoff, poll, PollAbortedError, PollTimeoutError } from '../poll.js'
import type { Runtime } from '../runtime.js'
import { cancelCommand } from '../ssm/cancel.js'
import { TERMINAL_COMMAND_STATUSES } from '../ssm/status.js'
import { commandResults, commandStates, sendCommands, type SendOptions } from './commands.js'
import { GoneWatch, type GoneHosts, goneReason } from './gone.js'
import type { HostScript } from './host-script.js'
import { describeWave } from './plan.js'
import { type CommandProgress, ProgressLine } from './progress.js'
import { type HostResult, isFailure, type SentCommand, type Wave } from './types.js'

/** The poll's ceiling while a sliding window waits for its next free slot. */
const WINDOW_POLL_MAX_MS = 1_000
/** ListCommands' InvokedAfter filter reaches this far back: a margin for clock skew. */
const SKEW_MARGIN_MS = 5 * 60_000
/** The margin when the time is SSM's own (SendCommand's RequestedDateTime). */
const SAME_CLOCK_MARGIN_MS = 1_000

export interface TrackerOptions {
  /** How every command is sent; the script and the delivery timeout come per send. */
  send: Omit<SendOptions, 'script' | 'deliveryTimeoutMs'>
  /** Clock time after which nothing may still run. */
  deadline: number
  backoff?: Partial<Backoff>
  /**
   * Read a command's hosts as they finish (a sliding window frees a slot per host), not only
   * once the whole command finished. Costs at most one results call per host that finishes.
   */
  eager: boolean
  /** Hosts the progress line counts (run-once is an extra step, not a host). */
  totalHosts: number
  onSent(sent: SentCommand): void
  /** Which hosts are gone (EC2's states); without it, a terminated host waits out its timeout. */
  goneHosts?: GoneHosts
  /** How often the running hosts are looked at (default STATE_CHECK_EVERY_MS). */
  stateCheckEveryMs?: number
}

export interface Waited {
  /** Hosts that finished since the last wait, each result carrying its wave. */
  finished: HostResult[]
  /** Why the wait ended early ("the deadline passed"); everything running was cancelled. */
  interrupted?: string
}

interface Tracked extends CommandProgress {
  sent: SentCommand
  /** Where ListCommands' InvokedAfter filter may start for this command. */
  listFrom: number
  reported: Set<string>
}

export class CommandTracker {
  readonly sent: SentCommand[] = []
  private readonly pending = new Map<string, Tracked>()
  private readonly progress: ProgressLine
  readonly watch: GoneWatch

  constructor(
    private readonly ssm: SSMClient,
    private readonly runtime: Runtime,
    private readonly options: TrackerOptions
  ) {
    this.watch = new GoneWatch(options.goneHosts, runtime, options.stateCheckEveryMs)
    this.progress = new ProgressLine(runtime, options.totalHosts)
  }

  /** Hosts found gone when their command was to be sent: reported by the next wait. */
  private readonly early: HostResult[] = []

  /** Hosts sent a command (or found gone at the send) that have not been reported finished. */
  get runningHosts(): number {
    let n = this.early.length
    for (const t of this.pending.values()) n += t.sent.instanceIds.length - t.reported.size
    return n
  }

  /**
   * Sends `script` to the hosts of one group. SendCommand refuses a whole batch for one host
   * terminated while it waited for its turn (InvalidInstanceId): the hosts EC2 says are gone
   * are reported Terminated, and the others are sent again.
   */
  async send(wave: Wave, instanceIds: readonly string[], script: HostScript): Promise<void> {
    try {
      await this.sendGroup(wave, instanceIds, script)
    } catch (err) {
      if (awsErrorCode(err) !== 'InvalidInstanceId') throw err
      const gone = await this.watch.lookNow(instanceIds)
      if (gone.size === 0) throw err
      for (const [instanceId, state] of gone) {
        const reason = goneReason(state, 'before its command was sent')
        this.early.push({ instanceId, status: 'Terminated', wave: wave.number, reason })
        if (wave.kind !== 'run-once') this.progress.hostDone(false)
      }
      const rest = instanceIds.filter((id) => !gone.has(id))
      if (rest.length) await this.send(wave, rest, script)
    }
  }

  /** Sends to the hosts of one group; on a failed batch, cancels the others first. */
  private async sendGroup(
    wave: Wave,
    instanceIds: readonly string[],
    script: HostScript
  ): Promise<void> {
    const { clock, log } = this.runtime
    const group: SentCommand[] = []
    try {
      await sendCommands(
        this.ssm,
        instanceIds,
        {
          ...this.options.send,
          script,
          deliveryTimeoutMs: this.options.deadline - clock.now()
        },
        (commandId, ids, requestedAt) => {
          const sent = { commandId, wave: wave.number, instanceIds: ids }
          group.push(sent)
          this.track(sent, wave, requestedAt)
        }
      )
    } catch (err) {
      for (const sent of group) {
        log.warning(
          `Cancelling command ${sent.commandId}: a later batch of ${describeWave(wave)} could not be sent.`
        )
        this.pending.delete(sent.commandId)
        await cancelCommand(this.ssm, sent.commandId).catch((e: unknown) =>
          log.warning(`Could not cancel command ${sent.commandId}: ${errorMessage(e)}`)
        )
      }
      throw err
    }
  }

  /**
   * Polls until every command finished (`all`) or at least one host did (`any`), at `pace`
   * when given (a hop on the critical path) unless the options set one. At the
   * deadline or on cancellation, cancels everything still running and returns it too.
   */
  async wait(until: 'all' | 'any', pace?: Partial<Backoff>): Promise<Waited> {
    const { clock, signal, log } = this.runtime
    const finished: HostResult[] = this.early.splice(0)
    if (this.pending.size === 0) return { finished }
    let interrupted: string | undefined
    try {
      await poll({
        label: 'the running commands to finish',
        timeoutMs: Math.max(0, this.options.deadline - clock.now()),
        clock,
        signal,
        // A window refills a slot per finished host: look a little more often than for a wave.
        backoff: {
          ...(until === 'any' ? { maxMs: WINDOW_POLL_MAX_MS } : {}),
          ...pace,
          ...this.options.backoff
        },
        check: async () => {
          finished.push(...(await this.check()))
          this.progress.report(this.pending.values())
          const done = this.pending.size === 0 || (until === 'any' && finished.length > 0)
          return done
            ? { done: true, value: undefined }
            : { done: false, status: `${this.pending.size} command(s) still running` }
        }
      })
    } catch (err) {
      if (!(err instanceof PollTimeoutError) && !(err instanceof PollAbortedError)) throw err
      interrupted =
        err instanceof PollTimeoutError ? 'the deadline passed' : 'the rollout was cancelled'
      log.warning(`Cancelling ${this.pending.size} command(s) still running: ${interrupted}.`)
      finished.push(...(await this.cancelAll(interrupted)))
    }
    this.progress.report(this.pending.values(), true)
    return interrupted ? { finished, interrupted } : { finished }
  }

  private track(sent: SentCommand, wave: Wave, requestedAt: Date | undefined): void {
    this.sent.push(sent)
    this.pending.set(sent.commandId, {
      sent,
      // SSM's own clock when it said (no skew), else ours with a margin for skew.
      listFrom: requestedAt
        ? requestedAt.getTime() - SAME_CLOCK_MARGIN_MS
        : this.runtime.clock.now() - SKEW_MARGIN_MS,
      counts: wave.kind !== 'run-once',
      reported: new Set(),
      reportedFailed: 0,
      completed: 0,
      errors: 0
    })
    this.options.onSent(sent)
  }

  /** One look at every running command; reads the hosts that finished. */
  private async check(): Promise<HostResult[]> {
    // The listing reaches back to the oldest running command only: pages stay few however
    // many commands the rollout sent before (a window sends one per freed slot batch).
    const from = Math.min(...[...this.pending.values()].map((t) => t.listFrom))
    const states = await commandStates(this.ssm, [...this.pending.keys()], new Date(from))
    const finished: HostResult[] = []
    for (const t of [...this.pending.values()]) {
      const state = states.get(t.sent.commandId)
      if (!state) continue // not visible yet right after SendCommand
      t.completed = state.CompletedCount ?? 0
      t.errors = (state.ErrorCount ?? 0) + (state.DeliveryTimedOutCount ?? 0)
      if (TERMINAL_COMMAND_STATUSES.has(state.Status ?? ''))
        finished.push(...(await this.collect(t)))
      else if (this.options.eager && t.completed > t.reported.size)
        finished.push(...(await this.collect(t, true)))
    }
    finished.push(...(await this.checkRunning()))
    return finished
  }

  /**
   * The running hosts EC2 says are gone, when a look is due: each one's invocation is
   * cancelled (by instance: the command's other hosts run on, and the post step finds nothing
   * to cancel) and it is reported Terminated, without waiting for SSM's timeout.
   */
  private async checkRunning(): Promise<HostResult[]> {
    const open = [...this.pending.values()]
    const running = open.flatMap((t) => t.sent.instanceIds.filter((id) => !t.reported.has(id)))
    const gone = await this.watch.running(running)
    const out: HostResult[] = []
    for (const t of gone.size ? open : []) {
      const ids = t.sent.instanceIds.filter((id) => !t.reported.has(id) && gone.has(id))
      if (ids.length === 0) continue
      const { commandId, wave } = t.sent
      this.runtime.log.info(`${ids.join(' ')}: terminated while running; cancelling its command.`)
      await cancelCommand(this.ssm, commandId, ids).catch((e: unknown) =>
        this.runtime.log.warning(
          `Could not cancel command ${commandId} on ${ids.join(' ')}: ${errorMessage(e)}`
        )
      )
      for (const id of ids) {
        const reason = goneReason(gone.get(id)!, 'while its command ran; the command was cancelled')
        out.push(this.count(t, { instanceId: id, status: 'Terminated', wave, commandId, reason }))
      }
      if (t.reported.size === t.sent.instanceIds.length) this.pending.delete(commandId)
    }
    return out
  }

  /**
   * Reads a command's hosts not reported yet (only those that finished, when `finishedOnly`);
   * a host that ended badly is looked at (`lookGone`), and reads Terminated when it is gone.
   */
  private async collect(t: Tracked, finishedOnly = false, lookGone = true): Promise<HostResult[]> {
    const ids = t.sent.instanceIds.filter((id) => !t.reported.has(id))
    const read = await commandResults(this.ssm, t.sent.commandId, ids, t.sent.wave, finishedOnly)
    const results = lookGone ? await this.watch.ended(read) : read
    for (const r of results) this.count(t, r)
    if (!finishedOnly || t.reported.size === t.sent.instanceIds.length)
      this.pending.delete(t.sent.commandId)
    return results
  }

  /** Marks a host reported and counts it for the progress line. */
  private count(t: Tracked, r: HostResult): HostResult {
    t.reported.add(r.instanceId)
    if (isFailure(r)) t.reportedFailed++
    if (t.counts) this.progress.hostDone(isFailure(r))
    return r
  }

  private async cancelAll(why: string): Promise<HostResult[]> {
    const out: HostResult[] = []
    for (const t of [...this.pending.values()]) {
      try {
        await cancelCommand(this.ssm, t.sent.commandId)
      } catch (err) {
        this.runtime.log.warning(
          `Could not cancel command ${t.sent.commandId}: ${errorMessage(err)}`
        )
      }
      // Cancelled by us: no state to look into.
      out.push(...(await this.collect(t, false, false)))
    }
    for (const r of out) if (r.status === 'Cancelled' && !r.reason) r.reason = `cancelled: ${why}`
    return out
  }
}
