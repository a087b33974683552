/**
 * What the deploy lock's parameter holds: who holds it, since when, until when at the latest,
 * when it was last renewed (the heartbeat), and the record of what that run still holds, so
 * whoever finds it after the run died can finish its cleanup (src/held/record.ts).
 */
import { formatDuration } from '../duration.js'
import type { Provenance } from '../model/provenance.js'

/** Every lock lives under this path; the IAM policies grant exactly it. */
export const LOCK_PATH = '/ebs-autoscale/lock'

export const lockName = (templateId: string): string => `${LOCK_PATH}/${templateId}`

/**
 * What a run still holds, compactly, as src/held/record.ts writes it: commands (c), snapshots
 * (s) and hosts out of service (o: target group ARN -> "instance-id" or "instance-id:port").
 */
export interface LockRecord {
  c?: string[]
  s?: string[]
  o?: Record<string, string[]>
}

export interface LockHolder {
  /** Unique per acquisition: freeing deletes the parameter only while it still carries it. */
  token: string
  repository: string
  runId: string
  runAttempt: string
  runUrl: string
  sha: string
  /** ISO 8601. */
  startedAt: string
  /** ISO 8601: past this, the run that holds it has outlived its own deadline. */
  expiresAt: string
  /** ISO 8601: the last heartbeat; absent in locks of versions without one. */
  renewedAt?: string
  /** What the holder still holds (absent or empty: nothing but the lock). */
  record?: LockRecord
}

/** A lock this run holds; the journal records it so the post step can free it. */
export interface HeldLock {
  name: string
  token: string
  templateId: string
}

export function parseHolder(value: string | undefined): LockHolder | undefined {
  try {
    const v = JSON.parse(value ?? '') as Partial<LockHolder>
    return typeof v.token === 'string' && typeof v.startedAt === 'string'
      ? (v as LockHolder)
      : undefined
  } catch {
    return undefined
  }
}

export function describeHolder(holder: LockHolder | undefined, now: number): string {
  if (!holder) return 'a holder this version cannot read'
  const age = formatDuration(Math.max(0, now - Date.parse(holder.startedAt)))
  const who = holder.runUrl || `${holder.repository} run ${holder.runId}`
  const renewed = holder.renewedAt
    ? `, renewed ${formatDuration(Math.max(0, now - Date.parse(holder.renewedAt)))} ago`
    : ''
  return `${who} (attempt ${holder.runAttempt}, commit ${holder.sha.slice(0, 12)}), started ${age} ago${renewed}, expires ${holder.expiresAt}`
}

/** GitHub starts attempt n+1 of a run only after attempt n ended: its lock is stale. */
export function isEarlierAttempt(holder: LockHolder, run: Provenance): boolean {
  return (
    !!run.runId &&
    holder.repository === run.repository &&
    holder.runId === run.runId &&
    Number(holder.runAttempt) < Number(run.runAttempt)
  )
}

/**
 * Why the holder is a dead run's, or undefined while it may live: its heartbeat stopped
 * (not renewed for `staleMs`), or it outlived its own deadline. A lock of a version without a
 * heartbeat is judged by its deadline only.
 */
export function deadBecause(holder: LockHolder, now: number, staleMs: number): string | undefined {
  if (holder.renewedAt) {
    const silent = now - Date.parse(holder.renewedAt)
    if (silent >= staleMs) return `not renewed for ${formatDuration(silent)}`
  }
  if (Date.parse(holder.expiresAt) < now) return `past its own deadline ${holder.expiresAt}`
  return undefined
}
