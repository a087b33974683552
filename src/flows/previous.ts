/**
 * The rollout's `launch-template` source: where a rollback returns to, read from the template's
 * default version as the deploy reads it, so EBS_AUTOSCALE_PREVIOUS_COMMIT and
 * EBS_AUTOSCALE_PREVIOUS_SNAPSHOT are filled there too. Read-only, before anything changes.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { errorMessage, SettingError } from '../errors.js'
import type { Log } from '../log.js'
import type { PreviousRelease } from '../model/release.js'
import { previousReleaseOf } from '../snapshot/ops/previous.js'

export interface PreviousSource {
  launchTemplate: string
  device: string
}

/** A template that cannot be found fails by name; an unreadable mapping only warns. */
export async function readPreviousRelease(
  ec2: EC2Client,
  source: PreviousSource,
  log: Log
): Promise<PreviousRelease> {
  let found: Awaited<ReturnType<typeof previousReleaseOf>>
  try {
    found = await previousReleaseOf(ec2, source.launchTemplate, source.device, log)
  } catch (err) {
    throw new SettingError(
      'launchTemplate',
      `${JSON.stringify(source.launchTemplate)} could not be read: ${errorMessage(err)}`
    )
  }
  const { template, previous } = found
  log.info(
    previous.snapshotId
      ? `A rollback would return to ${previous.commit || 'an untagged commit'} (${previous.snapshotId}): what launch template ${template.name} (${template.id}) default version ${template.defaultVersion} maps at ${source.device}.`
      : `Launch template ${template.name} (${template.id}) default version ${template.defaultVersion} maps no snapshot at ${source.device}: a rollback gets EBS_AUTOSCALE_PREVIOUS_COMMIT and EBS_AUTOSCALE_PREVIOUS_SNAPSHOT empty.`
  )
  return previous
}
