/**
 * Retention over one scope (a template, or a Name; the phase over every target is
 * ../retain-targets.ts). Old launch template versions beyond keep-versions (never the
 * default, the latest, or one a group is pinned to), then old snapshots beyond keep-snapshots.
 *
 * Which snapshots: those made for this launch template (tagged with its id at creation), so
 * environments sharing a Name never touch each other's; without a template, those with the
 * Name that were made for no template. Never deleted: the one just made, one that any version
 * of any launch template in the region maps, one behind an AMI of this account, one a deploy
 * may still publish (tagged `pending`, younger than IN_FLIGHT_MS). A deletion AWS refuses is
 * reported, not fatal. Under dry run, everything is listed and nothing is deleted.
 */
import {
  DeleteLaunchTemplateVersionsCommand,
  DeleteSnapshotCommand,
  type EC2Client,
  paginateDescribeSnapshots,
  type Snapshot
} from '@aws-sdk/client-ec2'
import { type Clock, realClock } from '../../clock.js'
import { aws, errorMessage, wrapAwsError } from '../../errors.js'
import { chunk } from '../../collections.js'
import { type Log, silentLog } from '../../log.js'
import { snapshotsBehindImages, snapshotsInLaunchTemplates } from './references.js'
import { launchTemplateTagFilter, TAG, tagMap } from './tags.js'
import { describeLaunchTemplate, listVersions } from './template.js'
import type { RetentionResult, SnapshotRecord } from '../types.js'

/**
 * A snapshot tagged `pending` this young may belong to a deploy still running: 5 days, the
 * longest a GitHub Actions job may run (self-hosted runners). Older, its deploy is gone.
 */
export const IN_FLIGHT_MS = 5 * 86_400_000

export interface RetentionOptions {
  /** The Name tag the snapshots share: the scope when there is no launch template. */
  name: string
  /** Completed snapshots to keep, newest first; 0 keeps all. */
  keepSnapshots: number
  /** Launch template versions to keep, newest first; 0 keeps all. */
  keepVersions: number
  /** The scope: the snapshots tagged with this template (and its versions for keep-versions). */
  launchTemplateId?: string
  /** Never deleted: the snapshot just made. */
  protectSnapshotIds?: readonly string[]
  /** Never deleted: versions Auto Scaling groups are pinned to. */
  protectVersions?: readonly number[]
  /** Under dry run the new snapshot does not exist yet but will take one of the kept places. */
  upcomingSnapshot?: boolean
  dryRun: boolean
  clock?: Clock
  log?: Log
}

export async function applyRetention(
  ec2: EC2Client,
  options: RetentionOptions
): Promise<RetentionResult> {
  const result: RetentionResult = {
    deletedSnapshots: [],
    protectedSnapshots: [],
    refusedSnapshots: [],
    deletedVersions: [],
    refusedVersions: [],
    dryRun: options.dryRun
  }
  // Versions first: the snapshots only they referenced can then go in the same run.
  const goneVersions =
    options.keepVersions > 0 && options.launchTemplateId
      ? await pruneVersions(ec2, options.launchTemplateId, options, result)
      : new Set<number>()
  if (options.keepSnapshots > 0) await pruneSnapshots(ec2, options, goneVersions, result)
  return result
}

async function pruneVersions(
  ec2: EC2Client,
  templateId: string,
  options: RetentionOptions,
  result: RetentionResult
): Promise<Set<number>> {
  const log = options.log ?? silentLog
  const template = await describeLaunchTemplate(ec2, templateId)
  const numbers = (await listVersions(ec2, templateId))
    .map((v) => v.VersionNumber ?? 0)
    .sort((a, b) => b - a)
  const keep = new Set([
    ...numbers.slice(0, options.keepVersions),
    template.defaultVersion,
    template.latestVersion,
    ...(options.protectVersions ?? [])
  ])
  const doomed = numbers.filter((n) => !keep.has(n))
  if (doomed.length === 0) return new Set()
  if (options.dryRun) {
    result.deletedVersions.push(...doomed)
    log.info(`Dry run: would delete launch template versions ${doomed.join(', ')}.`)
    return new Set(doomed)
  }
  for (const batch of chunk(doomed, 200)) {
    const out = await aws(
      'DeleteLaunchTemplateVersions',
      ec2.send(
        new DeleteLaunchTemplateVersionsCommand({
          LaunchTemplateId: templateId,
          Versions: batch.map(String)
        })
      )
    )
    for (const ok of out.SuccessfullyDeletedLaunchTemplateVersions ?? []) {
      result.deletedVersions.push(ok.VersionNumber ?? 0)
    }
    for (const bad of out.UnsuccessfullyDeletedLaunchTemplateVersions ?? []) {
      const error = `${bad.ResponseError?.Code ?? 'Error'}: ${bad.ResponseError?.Message ?? ''}`
      result.refusedVersions.push({ version: bad.VersionNumber ?? 0, error })
      log.warning(`Could not delete launch template version ${bad.VersionNumber}: ${error}`)
    }
  }
  result.deletedVersions.sort((a, b) => b - a)
  if (result.deletedVersions.length) {
    log.info(`Deleted launch template versions ${result.deletedVersions.join(', ')}.`)
  }
  return new Set(result.deletedVersions)
}

async function pruneSnapshots(
  ec2: EC2Client,
  options: RetentionOptions,
  goneVersions: ReadonlySet<number>,
  result: RetentionResult
): Promise<void> {
  const log = options.log ?? silentLog
  const snapshots = await snapshotsInScope(ec2, options)
  const slots = options.keepSnapshots - (options.upcomingSnapshot ? 1 : 0)
  const protectedIds = new Set(options.protectSnapshotIds ?? [])
  const { keep, candidates } = rank(snapshots, slots, protectedIds)
  if (candidates.length === 0) return

  const uses = await whyKept(ec2, candidates, options, goneVersions)
  const doomed: Snapshot[] = []
  for (const s of candidates) {
    const reason = uses.get(s.SnapshotId!)
    if (reason) result.protectedSnapshots.push({ snapshotId: s.SnapshotId!, reason })
    else doomed.push(s)
  }
  log.info(
    `Retention of ${scopeText(options)}: ${snapshots.length} snapshot(s), keeping the newest ${keep.length}; ` +
      `${doomed.length} to delete, ${result.protectedSnapshots.length} older one(s) kept because in use.`
  )
  await deleteSnapshots(ec2, doomed, options, result)
}

const scopeText = (options: RetentionOptions): string =>
  options.launchTemplateId
    ? `the snapshots of launch template ${options.launchTemplateId}`
    : `"${options.name}"`

/** Candidate id -> why it stays: just made, a deploy may publish it, a template or AMI uses it. */
async function whyKept(
  ec2: EC2Client,
  candidates: readonly Snapshot[],
  options: RetentionOptions,
  goneVersions: ReadonlySet<number>
): Promise<Map<string, string>> {
  const now = (options.clock ?? realClock).now()
  const reasons = new Map<string, string>()
  for (const s of candidates) {
    if (options.protectSnapshotIds?.includes(s.SnapshotId!)) reasons.set(s.SnapshotId!, 'just made')
    else if (inFlight(s, now)) {
      reasons.set(
        s.SnapshotId!,
        `made by a deploy that may still publish it (not yet published, started ${s.StartTime!.toISOString()})`
      )
    }
  }
  const inTemplates = await snapshotsInLaunchTemplates(
    ec2,
    options.launchTemplateId
      ? { ignore: { launchTemplateId: options.launchTemplateId, versions: goneVersions } }
      : {}
  )
  const behindImages = await snapshotsBehindImages(
    ec2,
    candidates.map((s) => s.SnapshotId!)
  )
  for (const uses of [inTemplates, behindImages]) {
    for (const [id, reason] of uses) if (!reasons.has(id)) reasons.set(id, reason)
  }
  return reasons
}

/** Tagged `pending` (not yet published nor failed) and younger than IN_FLIGHT_MS. */
function inFlight(s: Snapshot, now: number): boolean {
  if (tagMap(s.Tags)[TAG.status] !== 'pending') return false
  return !s.StartTime || now - s.StartTime.getTime() < IN_FLIGHT_MS
}

async function deleteSnapshots(
  ec2: EC2Client,
  doomed: readonly Snapshot[],
  options: RetentionOptions,
  result: RetentionResult
): Promise<void> {
  const log = options.log ?? silentLog
  for (const s of doomed) {
    const record = toRecord(s)
    if (options.dryRun) {
      result.deletedSnapshots.push(record)
      continue
    }
    try {
      await ec2.send(new DeleteSnapshotCommand({ SnapshotId: record.snapshotId }))
      result.deletedSnapshots.push(record)
    } catch (err) {
      const error = errorMessage(wrapAwsError('DeleteSnapshot', err))
      result.refusedSnapshots.push({ snapshotId: record.snapshotId, error })
      log.warning(`Could not delete snapshot ${record.snapshotId}: ${error}`)
    }
  }
  const verb = options.dryRun ? 'Dry run: would delete' : 'Deleted'
  if (result.deletedSnapshots.length) {
    log.info(`${verb} ${result.deletedSnapshots.map((s) => s.snapshotId).join(', ')}.`)
  }
}

/**
 * The snapshots kept for their age (the newest completed ones not marked failed) and the
 * candidates for deletion (older ones, failed ones). Snapshots still pending are left alone.
 * The one just made counts as the newest whatever its start time (several snapshots may
 * start within the same second).
 */
export function rank(
  snapshots: readonly Snapshot[],
  slots: number,
  justMade: ReadonlySet<string> = new Set()
): { keep: Snapshot[]; candidates: Snapshot[] } {
  const isNew = (s: Snapshot): number => (justMade.has(s.SnapshotId ?? '') ? 1 : 0)
  const newestFirst = [...snapshots].sort(
    (a, b) =>
      isNew(b) - isNew(a) ||
      (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0) ||
      (b.SnapshotId ?? '').localeCompare(a.SnapshotId ?? '')
  )
  const failed = (s: Snapshot) => s.State === 'error' || tagMap(s.Tags)[TAG.status] === 'failed'
  const good = newestFirst.filter((s) => s.State === 'completed' && !failed(s))
  const keep = good.slice(0, Math.max(0, slots))
  const candidates = newestFirst.filter(
    (s) => !keep.includes(s) && (s.State === 'completed' || s.State === 'error')
  )
  return { keep, candidates }
}

/**
 * With a template: the snapshots tagged with it. Without: those with the Name made for no
 * template (a deploy's snapshots belong to its template's retention).
 */
async function snapshotsInScope(ec2: EC2Client, options: RetentionOptions): Promise<Snapshot[]> {
  const filter = options.launchTemplateId
    ? {
        Name: `tag:${TAG.launchTemplate}`,
        Values: launchTemplateTagFilter(options.launchTemplateId)
      }
    : { Name: 'tag:Name', Values: [options.name] }
  const out: Snapshot[] = []
  try {
    for await (const page of paginateDescribeSnapshots(
      { client: ec2, pageSize: 1000 },
      { OwnerIds: ['self'], Filters: [filter] }
    )) {
      out.push(...(page.Snapshots ?? []).filter((s) => s.SnapshotId))
    }
  } catch (err) {
    throw wrapAwsError('DescribeSnapshots', err)
  }
  if (options.launchTemplateId) return out
  return out.filter((s) => tagMap(s.Tags)[TAG.launchTemplate] === undefined)
}

function toRecord(s: Snapshot): SnapshotRecord {
  return {
    snapshotId: s.SnapshotId ?? '',
    state: s.State ?? '',
    ...(s.StartTime ? { startTime: s.StartTime.toISOString() } : {}),
    ...(s.VolumeSize !== undefined ? { volumeSizeGiB: s.VolumeSize } : {})
  }
}
