/**
 * The rules a release's settings obey (the artifact, its store, the layout on each host, and
 * rollback-to), whoever reads them: typed values in, a SettingError naming the field out. Checked
 * on the runner before any AWS call.
 */
import { setting, SettingError } from '../errors.js'
import { checkMountPoint } from '../snapshot/mount-point.js'

/** artifact and rollback-to are two ways to move the fleet: one at a time. */
export function checkReleaseMode(artifact?: string, rollbackTo?: string): void {
  if (artifact && rollbackTo) {
    throw new SettingError(
      'rollbackTo',
      `${JSON.stringify(rollbackTo)} is set together with ${setting('artifact')}. Expected one of them: ${setting('artifact')} ships a new release, ${setting('rollbackTo')} switches back to one the hosts hold.`
    )
  }
}

/** Where releases/ and current live on each host: required to ship or switch one. */
export function releaseMountPoint(mountPoint: string | undefined, needs: string): string {
  if (!mountPoint) {
    throw new SettingError(
      'mountPoint',
      `is required with ${setting(needs)}. Expected where the code volume is mounted on each host, e.g. "/srv/app": releases/ and current live there.`
    )
  }
  return checkMountPoint(mountPoint)
}

/** The artifact's store: required with an artifact (its bucket). */
export function requireStore<T>(store: T | undefined): T {
  if (!store) {
    throw new SettingError(
      'artifactBucket',
      `is required with ${setting('artifact')}. Expected the S3 bucket the artifact is uploaded to, e.g. "acme-shop-releases".`
    )
  }
  return store
}

/** With an artifact, the way back is the release switch; rollback-commands would race it. */
export function checkReleaseRollback(artifact: string | undefined, rollbackCommands: string): void {
  if (artifact && rollbackCommands.trim()) {
    throw new SettingError(
      'rollbackCommands',
      `is set together with ${setting('artifact')}. Expected one of them: with an artifact, a failed rollout switches each host back to the release it replaced (seconds, no rebuild); ${setting('rollbackCommands')} are for deploys without one.`
    )
  }
}
