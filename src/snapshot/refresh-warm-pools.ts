/**
 * The warm-pool phase, after a publish: the warm pool of every group that picks up the new
 * version is refreshed (ops/warm-pool.ts says how and why).
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import type { Log } from '../log.js'
import { refreshWarmPool, type WarmPoolMode, type WarmPoolResult } from './ops/warm-pool.js'
import type { TargetReport } from './targets.js'

/**
 * After a publish: the warm pool of every group that picks up the new version (one following
 * `$Latest`, or `$Default` once the new version is the default). Under dry run no version exists
 * yet: every warm instance predates the one it would make.
 */
export async function refreshWarmPools(
  autoscaling: AutoScalingClient,
  reports: readonly TargetReport[],
  options: { mode: WarmPoolMode; dryRun: boolean; log: Log },
  setDefault: boolean
): Promise<WarmPoolResult[]> {
  const results: WarmPoolResult[] = []
  for (const { published, groups, failure } of reports) {
    // A version that lost to someone else's change (publish failed beside it): left alone.
    if (!published || failure?.phase === 'publish') continue
    const version = published.version ?? Number.MAX_SAFE_INTEGER
    const picksUp = groups.filter(
      (g) =>
        g.follows === 'latest' ||
        (g.follows === 'default' && (published.isDefault || (published.dryRun && setDefault)))
    )
    for (const g of picksUp) {
      const target = { launchTemplateId: published.launchTemplateId, version }
      results.push(await refreshWarmPool(autoscaling, g.name, target, options))
    }
  }
  return results
}
