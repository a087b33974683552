/** The `commit` input, resolved through the GitHub API with the workflow token when it is a ref. */
import { getOctokit } from '@actions/github'
import { resolveCommit } from '../../github/commit.js'
import type { Provenance } from '../../model/provenance.js'
import type { Inputs } from './inputs.js'

/**
 * The run context with `sha` (and `ref`) of the commit the step deploys. The API is called only
 * for a ref; GITHUB_API_URL (set by the runner, GHES included) says where the API is.
 */
export async function withDeployedCommit(inputs: Inputs, ctx: Provenance): Promise<Provenance> {
  const commit = inputs.optional('commit') ?? ''
  const token = inputs.optional('github-token') ?? ''
  const [owner = '', repo = ''] = ctx.repository.split('/')
  return resolveCommit(ctx, commit, async (ref) => {
    if (!token) {
      throw Object.assign(new Error('github-token is empty'), { status: 401 })
    }
    // Read at call time: @actions/github reads GITHUB_API_URL once, when it is first imported.
    const baseUrl = process.env['GITHUB_API_URL'] || 'https://api.github.com'
    const { data } = await getOctokit(token, { baseUrl }).rest.repos.getCommit({ owner, repo, ref })
    return data.sha
  })
}

/**
 * The commit being deployed (the `commit` input, resolved), for scripts that fetch a release;
 * the user's `env` comes after it.
 */
export function commitEnv(ctx: Provenance): Array<[string, string]> {
  return [
    ...(ctx.sha ? [['EBS_AUTOSCALE_COMMIT', ctx.sha] as [string, string]] : []),
    ...(ctx.ref ? [['EBS_AUTOSCALE_REF', ctx.ref] as [string, string]] : [])
  ]
}
