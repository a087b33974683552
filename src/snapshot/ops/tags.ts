/** The tags and description a snapshot carries from its creation, naming the run that made it. */
import { RELEASE_TAG } from '../../model/release.js'
import { type Provenance, runUrl, shortSha } from '../../model/provenance.js'
import type { CodeVolume } from '../types.js'

/** Keys this project writes; user tags may not use the prefix. */
export const TAG_PREFIX = 'ebs-autoscale:'
export const TAG = {
  name: 'Name',
  repository: `${TAG_PREFIX}repository`,
  commit: `${TAG_PREFIX}commit`,
  ref: `${TAG_PREFIX}ref`,
  runUrl: `${TAG_PREFIX}run-url`,
  sourceInstance: `${TAG_PREFIX}source-instance`,
  sourceVolume: `${TAG_PREFIX}source-volume`,
  device: `${TAG_PREFIX}device`,
  /** The launch template it is made for: retention works per template. */
  launchTemplate: `${TAG_PREFIX}launch-template`,
  /**
   * `pending` from creation when it is made for a launch template, `published` once it is the
   * default version's code, `failed` when its rollout failed.
   */
  status: `${TAG_PREFIX}status`,
  failure: `${TAG_PREFIX}failure`,
  /** The release on the code volume (releases): snapshots, instances and template versions. */
  release: RELEASE_TAG
} as const

/** EC2 limits: 50 tags per resource, values up to 256 characters. */
export const MAX_TAGS = 50
/**
 * User tags leave room for every key this project may write over a snapshot's life (the
 * status and failure tags come later), so a later CreateTags can never hit EC2's limit.
 */
export const MAX_USER_TAGS = MAX_TAGS - Object.keys(TAG).length
const MAX_VALUE = 256

/**
 * The launch-template tag of a snapshot published to several templates: their ids, space
 * separated, as many as fit in a tag value (a template left out only loses this snapshot from
 * its keep-snapshots count; no version that maps it ever lets it be deleted).
 */
export function launchTemplateTag(ids: readonly string[]): string | undefined {
  let value = ''
  for (const id of ids) {
    const next = value ? `${value} ${id}` : id
    if (next.length > MAX_VALUE) break
    value = next
  }
  return value || undefined
}

/** EC2 filter values matching a launch-template tag that holds `id`, alone or among others. */
export function launchTemplateTagFilter(id: string): string[] {
  return [id, `${id} *`, `* ${id}`, `* ${id} *`]
}

export function snapshotTags(
  name: string,
  run: Provenance,
  volume: CodeVolume,
  device: string | undefined,
  userTags: Readonly<Record<string, string>> = {},
  launchTemplateId?: string,
  release?: string
): Record<string, string> {
  const ours: Record<string, string | undefined> = {
    [TAG.name]: name,
    [TAG.repository]: run.repository,
    [TAG.commit]: run.sha,
    [TAG.ref]: run.ref,
    [TAG.runUrl]: runUrl(run),
    [TAG.sourceInstance]: volume.instanceId,
    [TAG.sourceVolume]: volume.volumeId,
    [TAG.device]: device ?? volume.device,
    [TAG.launchTemplate]: launchTemplateId,
    [TAG.release]: release,
    // Until published: retention leaves a deploy's snapshot alone while that deploy may run.
    [TAG.status]: launchTemplateId ? 'pending' : undefined
  }
  const tags: Record<string, string> = { ...userTags }
  for (const [key, value] of Object.entries(ours)) {
    if (value) tags[key] = value.slice(0, MAX_VALUE)
  }
  return tags
}

/** `acme/shop@0123456789ab (refs/heads/main), run 4242 attempt 1`, within EC2's 255 characters. */
export function defaultDescription(run: Provenance): string {
  const parts = [`ebs-autoscale: ${run.repository || 'unknown repository'}`]
  if (run.sha) parts[0] += `@${shortSha(run.sha)}`
  if (run.ref) parts.push(`(${run.ref})`)
  if (run.runId) parts.push(`run ${run.runId} attempt ${run.runAttempt}`)
  return parts.join(' ').slice(0, 255)
}

export const asTagList = (tags: Readonly<Record<string, string>>) =>
  Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))

export function tagMap(tags: ReadonlyArray<{ Key?: string; Value?: string }> | undefined) {
  const out: Record<string, string> = {}
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? ''
  return out
}
