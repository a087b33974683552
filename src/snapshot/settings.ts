/**
 * The rules of what a snapshot is and the version it publishes from (the snapshot action's and
 * the deploy's), whoever reads them (an action's inputs, a command line): typed values in, a
 * SettingError naming the field out. Checked before any AWS call.
 */
import { setting, SettingError } from '../errors.js'
import type { TagFilter } from '../model/fleet.js'
import { checkMountPoint } from './mount-point.js'
import { MAX_TAGS, MAX_USER_TAGS, TAG_PREFIX } from './ops/tags.js'
import type { Consistency, ConsistencyMode } from './types.js'

/** Freezing these would freeze the SSM agent that has to thaw them. */
const AGENT_DIRS = ['/var/lib/amazon/ssm', '/var/log/amazon/ssm', '/usr/bin', '/bin', '/etc']
const SOURCE_VERSION = /^(\$Default|\$Latest|[1-9]\d*)$/

const quote = (s: string): string => JSON.stringify(s)

/** The consistency mode with its mount point; freeze refuses the system's and the agent's dirs. */
export function consistencyOf(mode: ConsistencyMode, mountPoint?: string): Consistency {
  if (mountPoint !== undefined) checkMountPoint(mountPoint)
  if (mode === 'none') return { mode }
  if (mode === 'sync') return mountPoint ? { mode, mountPoint } : { mode }
  if (!mountPoint) {
    throw new SettingError(
      'mountPoint',
      `is required with ${setting('consistency')}: freeze. Expected where the code volume is mounted, e.g. "/srv/app".`
    )
  }
  const normalized = mountPoint.replace(/\/+$/, '') || '/'
  if (
    normalized === '/' ||
    AGENT_DIRS.some((d) => d === normalized || d.startsWith(`${normalized}/`))
  ) {
    throw new SettingError(
      'mountPoint',
      `${quote(mountPoint)} holds the system or the SSM agent; freezing it would hang the agent that has to thaw it. Expected the code volume's own mount point, e.g. "/srv/app".`
    )
  }
  return { mode, mountPoint: normalized }
}

/** Extra snapshot tags: one value per key, none of the keys this project writes, within budget. */
export function snapshotTagsOf(given: TagFilter): Record<string, string> {
  const tags: Record<string, string> = {}
  for (const [key, values] of given) {
    if (values.length > 1) {
      throw new SettingError(
        'snapshotTags',
        `${quote(key)} has several values (${values.join(', ')}). Expected one value per key.`
      )
    }
    if (key === 'Name')
      throw new SettingError(
        'snapshotTags',
        `sets Name. Expected other keys; the Name tag comes from the ${setting('name')} input.`
      )
    if (key.startsWith('aws:') || key.startsWith(TAG_PREFIX)) {
      throw new SettingError(
        'snapshotTags',
        `${quote(key)} uses a reserved prefix (aws: or ${TAG_PREFIX}).`
      )
    }
    if (key.length > 128 || values[0]!.length > 256) {
      throw new SettingError(
        'snapshotTags',
        `${quote(key)} is too long. Expected keys up to 128 and values up to 256 characters.`
      )
    }
    tags[key] = values[0]!
  }
  const count = Object.keys(tags).length
  if (count > MAX_USER_TAGS) {
    throw new SettingError(
      'snapshotTags',
      `has ${count} tags. Expected at most ${MAX_USER_TAGS} (EC2 allows ${MAX_TAGS} per snapshot and this action keeps ${MAX_TAGS - MAX_USER_TAGS} for its own).`
    )
  }
  return tags
}

/** The snapshot's Name tag and description, within EC2's limits. */
export function checkSnapshotText(name: string, description?: string): void {
  if (name.length > 255) throw new SettingError('name', 'is longer than 255 characters.')
  if (description && description.length > 255) {
    throw new SettingError('description', 'is longer than 255 characters (the EC2 limit).')
  }
}

export function checkSourceVersion(sourceVersion: string): string {
  if (!SOURCE_VERSION.test(sourceVersion)) {
    throw new SettingError(
      'sourceVersion',
      `${JSON.stringify(sourceVersion)} is not a version. Expected $Default, $Latest or a version number.`
    )
  }
  return sourceVersion
}
