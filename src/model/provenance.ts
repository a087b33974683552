/**
 * Where a run comes from: the repository, the commit it ships and the CI run that ships it.
 * Written into tags, descriptions, the lock and idempotency tokens. The front end supplies it
 * (the actions read it from the runner's GITHUB_* variables, src/actions/shared/context.ts);
 * the core never reads the environment for it.
 */
export interface Provenance {
  /** owner/name */
  repository: string
  sha: string
  ref: string
  runId: string
  runAttempt: string
  serverUrl: string
  workflow: string
  actor: string
}

export function runUrl(run: Provenance): string {
  return run.repository && run.runId
    ? `${run.serverUrl}/${run.repository}/actions/runs/${run.runId}`
    : ''
}

export const shortSha = (sha: string): string => sha.slice(0, 12)

/** The repository's name without its owner (`acme/shop` -> `shop`). */
export const repositoryName = (run: Provenance): string => run.repository.split('/').pop() || 'app'
