/**
 * The commit a deploy ships. It is GITHUB_SHA for a push, but a `workflow_dispatch` may deploy
 * another ref than the one the workflow runs from: the `commit` input names it (a SHA or a ref),
 * and what the snapshot records (its commit and ref tags, its description) must be that commit.
 */
import { setting, SettingError } from '../errors.js'
import type { Provenance } from '../model/provenance.js'

const FULL_SHA = /^[0-9a-f]{40}$/
/** What git accepts in a ref name that is worth sending to the API (no spaces, no `..`, no `~^:?*[\`). */
const REF = /^(?!.*\.\.)(?!.*\/\/)(?!\/)[A-Za-z0-9._/@+-]{1,255}(?<!\/)(?<!\.lock)$/

/** Looks a ref up (the adapter asks the GitHub API with the workflow token). */
export type CommitLookup = (ref: string) => Promise<string>

/**
 * `commit` as given: empty keeps the run's own commit; a full SHA is taken as it is; anything
 * else is a ref (branch, tag, `refs/...`, short SHA) resolved to its SHA through `lookup`.
 */
export async function resolveCommit(
  ctx: Provenance,
  input: string,
  lookup: CommitLookup
): Promise<Provenance> {
  const value = input.trim()
  if (value === '' || value.toLowerCase() === ctx.sha.toLowerCase()) return ctx
  if (FULL_SHA.test(value.toLowerCase())) {
    // A commit other than the run's: the run's ref says nothing about it.
    return { ...ctx, sha: value.toLowerCase(), ref: '' }
  }
  if (!REF.test(value)) {
    throw new SettingError(
      'commit',
      `${JSON.stringify(value)} is neither a commit SHA nor a git ref. Expected a 40-character SHA, a branch, a tag or refs/..., e.g. "v1.4.2" or "refs/heads/main".`
    )
  }
  let sha: string
  try {
    sha = (await lookup(value)).toLowerCase()
  } catch (err) {
    const status = (err as { status?: number }).status
    const hint =
      status === 404 || status === 422
        ? `no commit is named ${JSON.stringify(value)} in ${ctx.repository}`
        : status === 401 || status === 403
          ? `the token cannot read the repository (give the job \`permissions: contents: read\`, or pass ${setting('githubToken')})`
          : (err as Error).message
    throw new SettingError(
      'commit',
      `${JSON.stringify(value)} could not be resolved to a commit: ${hint}. Expected a SHA, branch or tag of ${ctx.repository}.`
    )
  }
  if (!FULL_SHA.test(sha)) {
    throw new SettingError(
      'commit',
      `${JSON.stringify(value)} resolved to ${JSON.stringify(sha)}, which is not a commit SHA.`
    )
  }
  return { ...ctx, sha, ref: value }
}
