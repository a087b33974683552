/**
 * Per-host lifecycle steps, awaited around each group of hosts that starts together (the model:
 * CodeDeploy's BeforeBlockTraffic / AfterAllowTraffic). A traffic module implements them (leave
 * the load balancer and drain; return and pass the health gate); the rollout knows no ELB.
 */
import { errorMessage } from '../errors.js'
import type { Runtime } from '../runtime.js'
import type { HostResult } from './types.js'

/** A host a step could not take through, and why (named in the host's result). */
export interface HostStepFailure {
  instanceId: string
  reason: string
}

export interface Lifecycle {
  /**
   * Awaited before the group's command is sent. A host it names does not run the commands and
   * is a failed host (counted against max-errors); `after` still runs for it.
   */
  before?(instanceIds: readonly string[], runtime: Runtime): Promise<readonly HostStepFailure[]>
  /**
   * Awaited once the hosts finished everything they run (their commands, and run-once on the
   * primary), whatever the outcome, cancelled hosts included: every host `before` was called
   * for reaches `after`. A host it names becomes a failed host (counted against max-errors).
   */
  after?(results: readonly HostResult[], runtime: Runtime): Promise<readonly HostStepFailure[]>
}

/**
 * Runs one step; a step that throws fails every host it was given with its message, so a
 * broken step is reported per host like any other failure instead of losing the rollout.
 */
export async function runStep<T>(
  name: 'before' | 'after',
  step:
    ((items: readonly T[], runtime: Runtime) => Promise<readonly HostStepFailure[]>) | undefined,
  items: readonly T[],
  ids: readonly string[],
  runtime: Runtime
): Promise<Map<string, string>> {
  const failed = new Map<string, string>()
  if (!step || items.length === 0) return failed
  try {
    for (const f of await step(items, runtime)) {
      if (ids.includes(f.instanceId)) failed.set(f.instanceId, `${name}: ${f.reason}`)
    }
  } catch (err) {
    for (const id of ids) failed.set(id, `${name} failed: ${errorMessage(err)}`)
  }
  return failed
}

/** A host's result once a lifecycle step failed it: Failed (unless it failed already), with why. */
export function failedByStep(result: HostResult, reason: string): HostResult {
  if (result.status === 'Success' || result.status === 'Skipped')
    return { ...result, status: 'Failed', reason }
  return { ...result, reason: result.reason ? `${result.reason}; ${reason}` : reason }
}

/** A host's result so far, or Skipped "not sent" for one released before its command was sent. */
export function resultSoFar(
  results: ReadonlyMap<string, HostResult>,
  instanceId: string
): HostResult {
  return results.get(instanceId) ?? { instanceId, status: 'Skipped', reason: 'not sent' }
}

/** Each host a step named (id -> why) becomes failed in `results`. Returns the results it changed. */
export function applyStepFailures(
  results: Map<string, HostResult>,
  failed: ReadonlyMap<string, string>
): HostResult[] {
  const changed: HostResult[] = []
  for (const [id, reason] of failed) {
    const updated = failedByStep(resultSoFar(results, id), reason)
    results.set(id, updated)
    changed.push(updated)
  }
  return changed
}
