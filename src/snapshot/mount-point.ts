/** The code volume's mount point on a host (consistency: freeze, sync; releases). */
import { SettingError } from '../errors.js'

const MOUNT_POINT = /^\/[A-Za-z0-9._/-]*$/

/** Where the code volume is mounted on the host: an absolute path, no `..`. */
export function checkMountPoint(mountPoint: string): string {
  if (!MOUNT_POINT.test(mountPoint) || mountPoint.split('/').includes('..')) {
    throw new SettingError(
      'mountPoint',
      `${JSON.stringify(mountPoint)} is not an absolute path. Expected e.g. "/srv/app".`
    )
  }
  return mountPoint
}
