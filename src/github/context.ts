/** Where a run comes from: used in tags, descriptions and idempotency tokens. */
export interface RunContext {
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

export function runUrl(ctx: RunContext): string {
  return ctx.repository && ctx.runId
    ? `${ctx.serverUrl}/${ctx.repository}/actions/runs/${ctx.runId}`
    : ''
}

export const shortSha = (sha: string): string => sha.slice(0, 12)

/** The repository's name without its owner (`acme/shop` -> `shop`). */
export const repositoryName = (ctx: RunContext): string => ctx.repository.split('/').pop() || 'app'
