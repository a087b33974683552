/**
 * The release part of a summary: what was shipped (or switched to), from where, and which host
 * and which launch template version runs which release: the fleet at a glance.
 */
import type { ReleaseRun } from '../flows/release-rollout.js'
import type { TargetReport } from '../snapshot/targets.js'
import { TAG } from '../snapshot/ops/tags.js'
import { code, table } from './markdown.js'

export function releaseSection(
  release: ReleaseRun | undefined,
  published: readonly TargetReport[] = [],
  snapshotTags: Readonly<Record<string, string>> = {}
): string {
  if (!release) return ''
  const parts = ['### Releases']
  if (release.id) {
    const s3 = Object.entries(release.s3Requests ?? {})
      .map(([api, n]) => `${api} ${n}`)
      .join(', ')
    const shipped =
      release.uploaded === undefined
        ? `Switched to release ${code(release.id)}.`
        : `Release ${code(release.id)}: ${release.uploaded ? 'uploaded' : 'already in the bucket, nothing uploaded'}${s3 ? ` (S3 requests: ${s3})` : ''}.`
    parts.push(shipped)
  }
  const byRelease = new Map<string, string[]>()
  for (const [host, id] of Object.entries(release.hosts))
    byRelease.set(id, [...(byRelease.get(id) ?? []), host])
  const rows: Array<Array<string | undefined>> = [...byRelease].map(([id, hosts]) => [
    code(id),
    hosts.map(code).join(' ')
  ])
  const boots = snapshotTags[TAG.release]
  for (const t of published) {
    if (t.published?.version === undefined || !boots) continue
    const what = `launch template ${t.template.name} v${t.published.version}${t.published.isDefault ? ' (default)' : ''}`
    rows.push([code(boots), what])
  }
  if (rows.length) parts.push(table(['Release', 'Runs on'], rows))
  return parts.join('\n\n')
}
