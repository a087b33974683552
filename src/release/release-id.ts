/**
 * Release ids: the directory name under `<mount-point>/releases/`, the instance tag and what
 * `rollback-to` names. The commit's short SHA (7 characters, as git shows it), so a person
 * reading `current` knows the commit at a glance; when that commit already shipped with other
 * bytes (a rebuild with another toolchain, another build flag), `<sha7>-<hash6>` from the
 * artifact's SHA-256, so two different releases never share a directory. The same commit with
 * the same bytes gets the same id again: a re-run reuses the release on every host.
 */
import { SettingError } from '../errors.js'

const COMMIT = /^[0-9a-f]{7,64}$/i
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/
const SHA256 = /^[0-9a-f]{64}$/

export interface ReleaseIdOptions {
  /** The commit the artifact was built from (GITHUB_SHA); without one the id is `sha256-<hash12>`. */
  commit?: string
  /** The artifact's SHA-256 (hex). */
  sha256: string
  /**
   * Releases known to exist already (on the hosts, in tags): id -> the SHA-256 of its artifact.
   * Only the ids of this commit matter.
   */
  known?: ReadonlyMap<string, string>
}

/** The id for this artifact: the first candidate that is free or already holds these bytes. */
export function releaseId(options: ReleaseIdOptions): string {
  const sha256 = options.sha256.toLowerCase()
  if (!SHA256.test(sha256)) throw new TypeError(`not a SHA-256: ${JSON.stringify(options.sha256)}`)
  const commit = options.commit?.trim().toLowerCase()
  if (commit !== undefined && commit !== '' && !COMMIT.test(commit)) {
    throw new TypeError(
      `${JSON.stringify(options.commit)} is not a commit SHA: expected 7 to 64 hexadecimal digits`
    )
  }
  const candidates = commit
    ? [commit.slice(0, 7), `${commit.slice(0, 7)}-${sha256.slice(0, 6)}`]
    : [`sha256-${sha256.slice(0, 12)}`]
  candidates.push(`${candidates[0]}-${sha256.slice(0, 16)}`) // a 6-digit clash: one in 16 million
  const known = options.known ?? new Map<string, string>()
  const id = candidates.find((c) => !known.has(c) || known.get(c)?.toLowerCase() === sha256)
  if (!id) {
    throw new Error(
      `every release id for this artifact (${candidates.join(', ')}) is taken by other bytes`
    )
  }
  return id
}

/**
 * A release id from outside (an input, a tag, a host's answer) checked as one path component:
 * it is written into file names on the host, so no `/`, no leading dot, nothing to quote.
 */
export function validateReleaseId(id: string, field = 'rollbackTo'): string {
  const trimmed = id.trim()
  if (!SAFE_ID.test(trimmed) || trimmed.includes('..')) {
    throw new SettingError(
      field,
      `${JSON.stringify(id)} is not a release id. Expected letters, digits, ".", "_" and "-" (at most 128, starting with a letter or digit), e.g. "3f9c2ab".`
    )
  }
  return trimmed
}

/** A rollback target: `previous`, or a release id (a commit SHA names the release of that commit). */
export type RollbackTarget = { kind: 'previous' } | { kind: 'release'; id: string }

export function parseRollbackTarget(value: string, field = 'rollbackTo'): RollbackTarget {
  const trimmed = value.trim()
  if (trimmed === 'previous') return { kind: 'previous' }
  const id = validateReleaseId(trimmed, field)
  // A full commit SHA names its release by the short form the ids start with.
  return { kind: 'release', id: /^[0-9a-f]{40}$/i.test(id) ? id.slice(0, 7).toLowerCase() : id }
}
