/** The one place a RolloutResult is built, whichever way the rollout ended. */
import type { HostResult, OfflineHost, RolloutResult, SentCommand, Wave } from './types.js'

export interface Outcome {
  /** Every targeted host, in host order. */
  instanceIds: readonly string[]
  offline: readonly OfflineHost[]
  skipOffline: boolean
  dryRun: boolean
  primaryInstanceId?: string
  waves: readonly Wave[]
  /** The hosts that started (or that a lifecycle step failed before their command). */
  results: ReadonlyMap<string, HostResult>
  runOnce?: HostResult
  commands: readonly SentCommand[]
  stoppedReason?: string
  /** The wave a host was planned in, for hosts that never started. */
  waveOf?: (instanceId: string) => Wave | undefined
}

export function buildResult(o: Outcome): RolloutResult {
  const offline = new Map(o.offline.map((h) => [h.instanceId, h]))
  // Without waves the rollout never began (offline hosts): nothing was stopped part-way.
  const notStarted =
    o.waves.length === 0
      ? 'not started'
      : o.dryRun
        ? 'dry run'
        : o.stoppedReason
          ? `not started: ${o.stoppedReason}`
          : 'not started'
  const results = o.instanceIds.map((id): HostResult => {
    const r = o.results.get(id)
    if (r) return r
    const off = offline.get(id)
    if (off) return { instanceId: id, status: 'Skipped', reason: off.reason }
    const wave = o.waveOf?.(id)?.number
    return { instanceId: id, status: 'Skipped', ...(wave ? { wave } : {}), reason: notStarted }
  })
  const ok = o.dryRun
    ? !o.stoppedReason
    : !o.stoppedReason &&
      (o.runOnce === undefined || o.runOnce.status === 'Success') &&
      results.every(
        (r) =>
          r.status === 'Success' ||
          r.status === 'Terminated' ||
          (r.status === 'Skipped' && offline.has(r.instanceId))
      )
  return {
    ok,
    ...(o.primaryInstanceId ? { primaryInstanceId: o.primaryInstanceId } : {}),
    waves: [...o.waves],
    results,
    commands: [...o.commands],
    offline: [...o.offline],
    offlineSkipped: o.skipOffline && o.offline.length > 0,
    ...(o.stoppedReason ? { stoppedReason: o.stoppedReason } : {}),
    ...(o.runOnce ? { runOnce: o.runOnce } : {}),
    dryRun: o.dryRun
  }
}
