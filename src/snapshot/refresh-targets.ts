/**
 * The refresh phase: an instance refresh, so running instances are replaced by ones booting
 * from the new snapshot, for each target that published.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { errorMessage } from '../errors.js'
import type { Runtime } from '../runtime.js'
import { picksUp } from './ops/groups.js'
import { startInstanceRefresh, waitForInstanceRefresh } from './ops/instance-refresh.js'
import type { InstanceRefreshSettings, TargetReport } from './targets.js'
import type { GroupUsage, RefreshResult } from './types.js'

/**
 * For each target that published, an instance refresh of the groups that
 * pick up the new version, followed to its end when asked. A failure is the target's.
 */
export async function refreshTargets(
  autoscaling: AutoScalingClient,
  reports: readonly TargetReport[],
  settings: InstanceRefreshSettings,
  dryRun: boolean,
  runtime: Runtime
): Promise<void> {
  for (const report of reports) {
    if (!report.published || report.failure) continue
    const isDefault = report.published.isDefault || dryRun
    try {
      report.refreshes = await refreshGroups(
        autoscaling,
        report.groups.filter((g) => picksUp(g, isDefault)),
        settings,
        dryRun,
        runtime
      )
    } catch (err) {
      report.failure = { phase: 'refresh', message: errorMessage(err) }
    }
  }
}

async function refreshGroups(
  autoscaling: AutoScalingClient,
  groups: readonly GroupUsage[],
  settings: InstanceRefreshSettings,
  dryRun: boolean,
  runtime: Runtime
): Promise<RefreshResult[]> {
  const { log } = runtime
  const results: RefreshResult[] = []
  for (const g of groups) {
    if (dryRun) {
      log.info(`Dry run: would start an instance refresh of ${g.name}.`)
      results.push({ groupName: g.name, status: 'dry-run' })
      continue
    }
    const refreshId = await startInstanceRefresh(autoscaling, g.name, settings)
    log.info(`Started instance refresh ${refreshId} of ${g.name}.`)
    results.push({ groupName: g.name, refreshId, status: 'Pending' })
  }
  if (!settings.wait || dryRun) return results
  for (const [i, r] of results.entries()) {
    results[i] = await waitForInstanceRefresh(
      autoscaling,
      r.groupName,
      r.refreshId!,
      { timeoutMs: settings.timeoutMs },
      runtime
    )
  }
  return results
}
