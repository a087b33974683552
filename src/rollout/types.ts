/** The rollout's domain: waves of hosts, the commands sent to them, and every host's result. */

/** `primary`: the primary alone before its run-once, when there is no canary. */
export type WaveKind = 'primary' | 'run-once' | 'canary' | 'fleet'

export interface Wave {
  /** 1-based, in the order the waves run. */
  number: number
  kind: WaveKind
  instanceIds: string[]
  /**
   * Set when the wave runs as a sliding window: at most this many of its hosts run at once,
   * the next starting as soon as one finishes. Unset: the whole wave starts together.
   */
  window?: number
}

/**
 * A host's outcome. SSM's own statuses, with StatusDetails where they say more
 * (DeliveryTimedOut, Undeliverable, ExecutionTimedOut...), plus:
 * - Skipped: never started (offline under skip-offline, or the rollout stopped first).
 * - Terminated: the instance was shutting down, terminated or gone (scale-in, a spot reclaim)
 *   while its command ran or after it ended badly: not a failed host, since the code did not
 *   fail; the group's replacement is the deploy's catch-up's to handle. (SSM's own
 *   StatusDetails "Terminated", a command stopped at its MaxErrors, reads as Cancelled.)
 */
export type HostStatus =
  | 'Success'
  | 'Failed'
  | 'TimedOut'
  | 'Cancelled'
  | 'DeliveryTimedOut'
  | 'ExecutionTimedOut'
  | 'Undeliverable'
  | 'Terminated'
  | 'InvalidPlatform'
  | 'AccessDenied'
  | 'Skipped'

export interface HostResult {
  instanceId: string
  status: HostStatus
  /** The script's exit code, when it ran. */
  exitCode?: number
  durationMs?: number
  wave?: number
  commandId?: string
  /** Why the host was skipped or what SSM said. */
  reason?: string
  /** The last lines of the output SSM kept. */
  stdoutTail?: string
  stderrTail?: string
  /** Where the full output is, when it was sent to S3 or CloudWatch. */
  outputUrl?: string
  /** The last lines of the commands' output, as the script printed them when they failed. */
  outputTail?: string
  /** Where the script kept the whole output on the host. */
  logPath?: string
  /** Set when SSM returned only the start of the output: says so and where the whole of it is. */
  outputNote?: string
  /** The CloudWatch Logs group and stream holding the whole stdout, when output went there. */
  cloudWatchOutput?: string
}

export interface SentCommand {
  commandId: string
  wave: number
  instanceIds: string[]
}

export interface OfflineHost {
  instanceId: string
  /** "not SSM-managed" or the agent's PingStatus. */
  reason: string
}

export interface RolloutResult {
  /** True when every targeted host ran the script and exited 0 (skipped offline hosts aside). */
  ok: boolean
  primaryInstanceId?: string
  waves: Wave[]
  /** Every targeted host, in host order. */
  results: HostResult[]
  commands: SentCommand[]
  offline: OfflineHost[]
  /** True when the offline hosts were skipped (skip-offline) rather than failing the rollout. */
  offlineSkipped: boolean
  /** Why later waves did not start, when they did not. */
  stoppedReason?: string
  /** The run-once step on the primary, when there was one and it started. */
  runOnce?: HostResult
  dryRun: boolean
}

/** Counted against max-errors and failing the rollout: neither Success, Skipped nor Terminated. */
export const isFailure = (r: HostResult): boolean =>
  r.status !== 'Success' && r.status !== 'Skipped' && r.status !== 'Terminated'
