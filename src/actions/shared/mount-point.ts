/** `mount-point` (snapshot's consistency, and releases): where the code volume is mounted. */
import { InputError } from '../../errors.js'
import type { Inputs } from './inputs.js'

const MOUNT_POINT = /^\/[A-Za-z0-9._/-]*$/

/** Undefined when empty; an absolute path without `..` otherwise. */
export function readMountPoint(inputs: Inputs): string | undefined {
  const mountPoint = inputs.optional('mount-point')
  if (mountPoint === undefined) return undefined
  if (!MOUNT_POINT.test(mountPoint) || mountPoint.split('/').includes('..')) {
    throw new InputError(
      'mount-point',
      `${JSON.stringify(mountPoint)} is not an absolute path. Expected e.g. "/srv/app".`
    )
  }
  return mountPoint
}
