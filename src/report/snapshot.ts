/**
 * The snapshot's part of a job summary: the snapshot and where it came from, the template
 * version before and after, the groups and what they follow, what retention removed.
 * Pure (no runner), so the deploy summary reuses it.
 */
import { formatDuration } from '../duration.js'
import type { PublishFlowResult } from '../flows/publish.js'
import type {
  CreatedSnapshot,
  GroupUsage,
  NewVolumeEncryption,
  PublishedSnapshot,
  RefreshResult,
  RetentionResult,
  SnapshotCompletion
} from '../snapshot/types.js'
import { warmPoolLines } from './warm-pool.js'
import { code, table } from './markdown.js'

const ec2Console = (region: string, fragment: string): string =>
  `https://${region}.console.aws.amazon.com/ec2/home?region=${region}#${fragment}`

export function snapshotLink(region: string, snapshotId: string): string {
  return `[${snapshotId}](${ec2Console(region, `SnapshotDetails:snapshotId=${snapshotId}`)})`
}

export function launchTemplateLink(region: string, id: string, name: string): string {
  return `[${name || id}](${ec2Console(region, `LaunchTemplateDetails:launchTemplateId=${id}`)})`
}

/** One line: what happened, or what failed and in which phase. */
export function snapshotVerdict(result: PublishFlowResult): string {
  if (result.failure)
    return `**Failed** while ${PHASE[result.failure.phase]}: ${result.failure.message}`
  if (result.dryRun) return '**Dry run**: nothing was created, changed or deleted.'
  const versions = result.targets.flatMap((t) => (t.published ? [t.published] : []))
  if (versions.length > 1) {
    return `**Published** to ${versions.length} launch templates: new instances boot from ${code(result.snapshot.snapshotId)} where the new version is the default.`
  }
  const published = versions[0]
  if (published?.isDefault) {
    return `**Published**: new instances boot from ${code(result.snapshot.snapshotId)} (launch template version ${published.version}, the default).`
  }
  if (published) {
    return `**Published** as launch template version ${published.version} (not the default).`
  }
  return `**Snapshot ${result.state}**: ${code(result.snapshot.snapshotId)}.`
}

const PHASE: Record<string, string> = {
  wait: 'waiting for the snapshot',
  publish: 'publishing the launch template version',
  refresh: 'refreshing the instances',
  retention: 'applying retention'
}

export function snapshotTable(
  snapshot: CreatedSnapshot,
  state: string,
  completion: SnapshotCompletion | undefined,
  region: string
): string {
  const v = snapshot.volume
  return table(
    ['Snapshot', 'State', 'Name', 'Source instance', 'Volume', 'Device', 'Consistency'],
    [
      [
        snapshot.snapshotId ? snapshotLink(region, snapshot.snapshotId) : '(dry run)',
        completion ? `${state} in ${formatDuration(completion.waitedMs)}` : state,
        snapshot.name,
        v.instanceId ? code(v.instanceId) : undefined,
        `${code(v.volumeId)} ${v.sizeGiB} GiB ${v.volumeType ?? ''}${v.encrypted ? ' encrypted' : ''}`.trim(),
        snapshot.device ?? v.device,
        snapshot.consistency
      ]
    ]
  )
}

export function templateTable(published: PublishedSnapshot, region: string): string {
  const ebs = published.mappingAfter.Ebs ?? {}
  const after = published.dryRun
    ? `${published.version ?? '(dry run: not created)'}`
    : `${published.version}${published.reusedVersion ? ' (made by an earlier attempt)' : ''}`
  return table(
    [
      'Launch template',
      'Default before',
      'New version',
      'Default now',
      'Source version',
      'Mapping'
    ],
    [
      [
        launchTemplateLink(region, published.launchTemplateId, published.launchTemplateName),
        published.previousDefaultVersion,
        after,
        published.isDefault ? published.version : `${published.previousDefaultVersion} (unchanged)`,
        published.sourceVersion,
        `${published.device} → ${published.snapshotId || 'the new snapshot'}` +
          [
            ebs.VolumeType,
            ebs.VolumeSize !== undefined ? `${ebs.VolumeSize} GiB` : undefined,
            ebs.VolumeInitializationRate !== undefined
              ? `initialized at ${ebs.VolumeInitializationRate} MiB/s`
              : undefined,
            ebs.DeleteOnTermination === false ? 'kept on termination' : undefined
          ]
            .filter(Boolean)
            .map((x) => `, ${x}`)
            .join('')
      ]
    ]
  )
}

/** Which encryption the volumes launched from the new mapping get. */
export function encryptionText(e: NewVolumeEncryption): string {
  if (e.encrypted === undefined) return "the snapshot's encryption (not read here)"
  if (e.by === 'template') {
    const key = e.kmsKeyId ? `KMS key ${code(e.kmsKeyId)}` : "the region's default EBS KMS key"
    return `encrypted with ${key} (the template asks for it)`
  }
  if (e.encrypted) {
    return `encrypted, like the snapshot (${e.kmsKeyId ? `KMS key ${code(e.kmsKeyId)}` : 'its KMS key'})`
  }
  return 'not encrypted, like the snapshot (unless EBS encryption by default is on in the region)'
}

/** How long a new instance's code volume takes to load from the snapshot, or why it is slow. */
export function initializationText(published: PublishedSnapshot): string {
  const rate = published.mappingAfter.Ebs?.VolumeInitializationRate
  const size = published.volumeSizeGiB
  if (rate === undefined) {
    return (
      "No volume initialization rate: a new instance's code volume loads lazily from S3, so the first read of each block is slow " +
      'until the whole volume has been read. Set `volume-initialization-rate` (100-300 MiB/s) to have it loaded at a provisioned rate.'
    )
  }
  if (size === undefined) return `A new instance's code volume loads at ${rate} MiB/s.`
  const ms = ((size * 1024) / rate) * 1000
  return `A new instance's code volume (${size} GiB) is fully initialized about ${formatDuration(ms)} after launch (${rate} MiB/s).`
}

const FOLLOWS: Record<string, string> = {
  default: 'the default version',
  latest: 'the latest version',
  pinned: '⚠️ a fixed version: ignores the new one'
}

export function groupsTable(groups: readonly GroupUsage[]): string {
  if (groups.length === 0) return 'No Auto Scaling group launches from this template.'
  return table(
    ['Auto Scaling group', 'Version', 'Follows', 'Instances', 'Via'],
    groups.map((g) => [
      code(g.name),
      g.version,
      FOLLOWS[g.follows],
      `${g.instanceCount} (desired ${g.desiredCapacity})`,
      g.via
    ])
  )
}

export function refreshTable(refreshes: readonly RefreshResult[]): string {
  return table(
    ['Instance refresh', 'Group', 'Status', 'Complete', 'Reason'],
    refreshes.map((r) => [
      r.refreshId ? code(r.refreshId) : undefined,
      code(r.groupName),
      r.status,
      r.percentageComplete !== undefined ? `${r.percentageComplete}%` : undefined,
      r.statusReason
    ])
  )
}

export function retentionSection(retention: RetentionResult, region: string): string {
  const verb = retention.dryRun ? 'Would delete' : 'Deleted'
  const lines: string[] = []
  if (retention.deletedSnapshots.length) {
    lines.push(
      `${verb} snapshots: ${retention.deletedSnapshots.map((s) => code(s.snapshotId)).join(', ')}`
    )
  }
  if (retention.deletedVersions.length) {
    lines.push(`${verb} launch template versions: ${retention.deletedVersions.join(', ')}`)
  }
  for (const p of retention.protectedSnapshots) {
    lines.push(`Kept ${snapshotLink(region, p.snapshotId)}: ${p.reason}`)
  }
  for (const r of retention.refusedSnapshots) {
    lines.push(`⚠️ Could not delete ${code(r.snapshotId)}: ${r.error}`)
  }
  for (const r of retention.refusedVersions) {
    lines.push(`⚠️ Could not delete version ${r.version}: ${r.error}`)
  }
  return lines.length ? lines.map((l) => `- ${l}`).join('\n') : 'Nothing to delete.'
}

/** The whole section, headings included (level 3: the caller writes the level-2 title). */
export function snapshotReport(result: PublishFlowResult, region: string): string {
  const parts = [
    snapshotVerdict(result),
    '### Snapshot',
    snapshotTable(result.snapshot, result.state, result.completion, region)
  ]
  // One section per publish target.
  for (const target of result.targets) {
    if (target.published) {
      parts.push('### Launch template', templateTable(target.published, region))
      parts.push(
        `New code volumes: ${encryptionText(target.published.encryption)}. ${initializationText(target.published)}`
      )
      for (const note of target.published.notes) parts.push(`> ${note}`)
      if (target.failure) parts.push(`> ⚠️ ${target.failure.message}`)
    } else if (target.failure) {
      parts.push(
        '### Launch template',
        `${launchTemplateLink(region, target.template.id, target.template.name)}: not published (${target.failure.message})`
      )
    }
    parts.push('### Auto Scaling groups', groupsTable(target.groups))
    if (target.refreshes.length) parts.push(refreshTable(target.refreshes))
  }
  const warm = warmPoolLines(result.warmPools ?? [], result.dryRun)
  if (warm.length) parts.push('### Warm pools', warm.map((l) => `- ${l}`).join('\n'))
  if (result.retention) parts.push('### Retention', retentionSection(result.retention, region))
  return parts.join('\n\n') + '\n'
}
