/**
 * The provenance of this step's run, from the runner's GITHUB_* variables (what
 * @actions/github's `context` reads too, without bundling an API client the actions never use).
 * The only reader of GITHUB_* run variables: the core is handed the value.
 */
import type { Provenance } from '../../model/provenance.js'

export function provenance(env: NodeJS.ProcessEnv = process.env): Provenance {
  return {
    repository: env['GITHUB_REPOSITORY'] ?? '',
    sha: env['GITHUB_SHA'] ?? '',
    ref: env['GITHUB_REF'] ?? '',
    runId: env['GITHUB_RUN_ID'] ?? '',
    runAttempt: env['GITHUB_RUN_ATTEMPT'] ?? '1',
    serverUrl: env['GITHUB_SERVER_URL'] ?? 'https://github.com',
    workflow: env['GITHUB_WORKFLOW'] ?? '',
    actor: env['GITHUB_ACTOR'] ?? ''
  }
}
