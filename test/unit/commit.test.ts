import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { withDeployedCommit } from '../../src/actions/shared/commit.js'
import { resolveCommit } from '../../src/github/commit.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { RUN } from '../../support/fixtures.js'

const OTHER = 'fedcba9876543210fedcba9876543210fedcba98'
const refs: Record<string, string> = { 'v1.4.2': OTHER, 'refs/heads/release': OTHER }
const lookup = async (ref: string): Promise<string> => {
  if (refs[ref]) return refs[ref]
  throw Object.assign(new Error('Not Found'), { status: 404 })
}

describe('resolveCommit', () => {
  it('keeps the run commit and ref when commit is empty or the run commit', async () => {
    await expect(resolveCommit(RUN, '', lookup)).resolves.toBe(RUN)
    await expect(resolveCommit(RUN, `  ${RUN.sha.toUpperCase()} `, lookup)).resolves.toBe(RUN)
  })

  it('takes another full SHA as it is, without asking the API, and drops the run ref', async () => {
    const never = async (): Promise<string> => {
      throw new Error('the API must not be called for a SHA')
    }
    await expect(resolveCommit(RUN, OTHER, never)).resolves.toEqual({ ...RUN, sha: OTHER, ref: '' })
  })

  it('resolves a tag or a ref to its SHA and records the ref', async () => {
    await expect(resolveCommit(RUN, 'v1.4.2', lookup)).resolves.toEqual({
      ...RUN,
      sha: OTHER,
      ref: 'v1.4.2'
    })
  })

  it('names the setting and the value when the ref does not exist or the token cannot read', async () => {
    await expect(resolveCommit(RUN, 'v9', lookup)).rejects.toThrow(
      'Setting "commit": "v9" could not be resolved to a commit: no commit is named "v9" in acme/shop. Expected a SHA, branch or tag of acme/shop.'
    )
    const denied = async (): Promise<string> => {
      throw Object.assign(new Error('Resource not accessible'), { status: 403 })
    }
    await expect(resolveCommit(RUN, 'main', denied)).rejects.toThrow(
      'the token cannot read the repository (give the job `permissions: contents: read`, or pass githubToken)'
    )
  })

  it('refuses what is no ref at all before calling the API', async () => {
    for (const bad of ['main..dev', 'a b', 'x~1', '/main', 'main/']) {
      await expect(resolveCommit(RUN, bad, lookup)).rejects.toThrow(
        `Setting "commit": ${JSON.stringify(bad)} is neither a commit SHA nor a git ref.`
      )
    }
  })
})

describe('withDeployedCommit through the GitHub API (a local stand-in)', () => {
  let server: Server
  const seen: Array<{ url?: string; auth?: string }> = []
  const saved = process.env['GITHUB_API_URL']
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization })
      const known = req.url === '/repos/acme/shop/commits/v1.4.2'
      res.writeHead(known ? 200 : 404, { 'content-type': 'application/json' })
      res.end(JSON.stringify(known ? { sha: OTHER } : { message: 'Not Found' }))
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    process.env['GITHUB_API_URL'] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    if (saved === undefined) delete process.env['GITHUB_API_URL']
    else process.env['GITHUB_API_URL'] = saved
    await new Promise((r) => server.close(r))
  })
  const inputs = (given: Record<string, string>) => new Inputs((n) => given[n] ?? '')

  it('asks GET /repos/{owner}/{repo}/commits/{ref} with the token and records the SHA', async () => {
    const ctx = await withDeployedCommit(inputs({ commit: 'v1.4.2', 'github-token': 'ghs_x' }), RUN)
    expect(ctx.sha).toBe(OTHER)
    expect(seen.at(-1)).toEqual({ url: '/repos/acme/shop/commits/v1.4.2', auth: 'token ghs_x' })
  })

  it('fails by name for a ref the repository does not have', async () => {
    await expect(
      withDeployedCommit(inputs({ commit: 'nope', 'github-token': 'ghs_x' }), RUN)
    ).rejects.toThrow('no commit is named "nope" in acme/shop')
  })
})
