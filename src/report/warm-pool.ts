/** The warm pools' part of a job summary (snapshot and deploy). */
import type { WarmPoolResult } from '../snapshot/ops/warm-pool.js'

/** One line per group whose warm pool held old code, for the summary. */
export function warmPoolLines(results: readonly WarmPoolResult[], dryRun: boolean): string[] {
  return results
    .filter((r) => r.stale.length > 0)
    .map((r) => {
      const parts = [
        `${r.groupName}: ${r.stale.length} of ${r.poolSize} warm instance(s) held old code`
      ]
      if (r.replaced.length)
        parts.push(`${dryRun ? 'would replace' : 'replaced'} ${r.replaced.join(', ')}`)
      if (r.kept.length) parts.push(`kept (warm-pools: keep) ${r.kept.join(', ')}`)
      if (r.refused.length)
        parts.push(
          `could not replace ${r.refused.map((x) => `${x.instanceId} (${x.error})`).join(', ')}`
        )
      return parts.join('; ')
    })
}
