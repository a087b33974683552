/**
 * Hosts that went away mid-rollout (scale-in, a spot reclaim). SSM cannot tell: the invocation
 * of a terminated host stays InProgress until the host timeout, then reads TimedOut (or the
 * command never arrives: DeliveryTimedOut, Undeliverable). The caller's `goneHosts` (EC2's
 * instance states; the rollout knows no EC2) is asked about the running hosts at a bounded
 * pace, one look for all of them, and about every host whose invocation ended badly.
 */
import { errorMessage } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { HostResult, HostStatus } from './types.js'

/**
 * Hosts among `instanceIds` that are gone, each with its state: `shutting-down`, `terminated`,
 * or `not-found` (EC2 no longer knows it). Hosts still there are left out.
 */
export type GoneHosts = (instanceIds: readonly string[]) => Promise<ReadonlyMap<string, string>>

/**
 * The running hosts are looked at once per this much wall time, in one call whatever their
 * number: a terminated host is noticed within about this long, not at the host timeout.
 */
export const STATE_CHECK_EVERY_MS = 20_000

/** Statuses a terminated host's invocation ends with; only these are looked into. */
const ENDED_BADLY: ReadonlySet<HostStatus> = new Set<HostStatus>([
  'Failed',
  'TimedOut',
  'Cancelled',
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable'
])

export class GoneWatch {
  private lastLook: number
  /** How many looks were made (benchmarks and tests). */
  looks = 0

  constructor(
    private readonly goneHosts: GoneHosts | undefined,
    private readonly runtime: Runtime,
    private readonly everyMs: number = STATE_CHECK_EVERY_MS
  ) {
    // The first look comes a period after the start: a host is rarely gone the moment it starts.
    this.lastLook = runtime.clock.now()
  }

  /** The gone among running hosts, when a look is due (else none). */
  async running(instanceIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    if (!this.goneHosts || instanceIds.length === 0) return new Map()
    if (this.runtime.clock.now() - this.lastLook < this.everyMs) return new Map()
    return this.lookNow(instanceIds)
  }

  /** The results whose host turned out gone, rewritten Terminated; the others as they were. */
  async ended(results: readonly HostResult[]): Promise<HostResult[]> {
    const suspects = results.filter((r) => ENDED_BADLY.has(r.status)).map((r) => r.instanceId)
    if (!this.goneHosts || suspects.length === 0) return [...results]
    const gone = await this.lookNow(suspects)
    return results.map((r) => {
      const state = gone.get(r.instanceId)
      if (state === undefined) return r
      return { ...r, status: 'Terminated', reason: goneReason(state, `SSM said ${r.status}`) }
    })
  }

  /** The gone among `instanceIds`, looked at now (none when there is no hook or it fails). */
  async lookNow(instanceIds: readonly string[]): Promise<ReadonlyMap<string, string>> {
    if (!this.goneHosts) return new Map()
    this.lastLook = this.runtime.clock.now()
    this.looks++
    try {
      return await this.goneHosts!(instanceIds)
    } catch (err) {
      // A look that fails costs nothing but promptness: the command's own end still comes.
      this.runtime.log.warning(
        `Could not check whether ${instanceIds.length} host(s) were terminated: ${errorMessage(err)}`
      )
      return new Map()
    }
  }
}

/** "the instance is terminated (SSM said TimedOut)". */
export function goneReason(state: string, detail: string): string {
  const what = state === 'not-found' ? 'no longer exists' : `is ${state}`
  return `the instance ${what} (${detail})`
}
