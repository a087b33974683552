import type { RolloutOptions } from '../../src/rollout/run.js'
import { rolloutSettings } from '../../support/fixtures.js'

/** The action's default rollout of `./deploy.sh` on these hosts (in order: the first is the canary). */
export function deployScriptOn(ids: string[], extra: Partial<RolloutOptions> = {}): RolloutOptions {
  return { ...rolloutSettings({ script: ['./deploy.sh'], ...extra }), instanceIds: ids }
}

/** Each host's status, by id. */
export const statuses = (r: { results: Array<{ instanceId: string; status: string }> }) =>
  Object.fromEntries(r.results.map((x) => [x.instanceId, x.status]))
