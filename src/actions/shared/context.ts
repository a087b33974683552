/**
 * The run this step belongs to, from the runner's GITHUB_* variables (what @actions/github's
 * `context` reads too, without bundling an API client the actions never use).
 */
import type { RunContext } from '../../github/context.js'

export function runContext(env: NodeJS.ProcessEnv = process.env): RunContext {
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
