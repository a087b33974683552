/** The deploy lock's releaser: deletes the lock if this run still holds it (safe to repeat). */
import type { SSMClient } from '@aws-sdk/client-ssm'
import { releaseDeployLock } from '../lock/deploy-lock.js'
import type { Releaser } from './release.js'

export function lockReleaser(ssm: SSMClient): Releaser<'lock'> {
  return async (lock) =>
    (await releaseDeployLock(ssm, lock)) === 'released'
      ? `Released the deploy lock ${lock.name}.`
      : `Left the deploy lock ${lock.name} alone: this run no longer held it.`
}
