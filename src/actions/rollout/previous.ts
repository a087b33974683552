/**
 * The rollout action's `launch-template` and `device`: where a rollback returns to, read from
 * the template's default version as deploy reads it, so EBS_AUTOSCALE_PREVIOUS_COMMIT and
 * EBS_AUTOSCALE_PREVIOUS_SNAPSHOT are filled here too.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import { errorMessage, InputError } from '../../errors.js'
import type { Inputs } from '../../inputs.js'
import type { Log } from '../../log.js'
import type { PreviousRelease } from '../../model/release.js'
import { previousReleaseOf } from '../../snapshot/ops/previous.js'
import { readDevice } from '../shared/device.js'
import { readLaunchTemplate } from '../shared/launch-template.js'

export interface PreviousSource {
  launchTemplate: string
  device: string
}

/** Undefined without launch-template; refused without rollback-commands (it would do nothing). */
export function readPreviousSource(
  inputs: Inputs,
  hasRollback: boolean
): PreviousSource | undefined {
  const device = readDevice(inputs)
  const launchTemplate = readLaunchTemplate(inputs)
  if (!launchTemplate) return undefined
  if (!hasRollback) {
    throw new InputError(
      'launch-template',
      `${JSON.stringify(launchTemplate)} is set without rollback-commands. Expected rollback-commands with it: the template only tells a rollback where it returns to.`
    )
  }
  return { launchTemplate, device }
}

/** Read-only, before anything changes: a template that cannot be found fails by name. */
export async function readPrevious(
  ec2: EC2Client,
  source: PreviousSource | undefined,
  log: Log
): Promise<PreviousRelease> {
  if (!source) return { commit: '', snapshotId: '' }
  let found: Awaited<ReturnType<typeof previousReleaseOf>>
  try {
    found = await previousReleaseOf(ec2, source.launchTemplate, source.device, log)
  } catch (err) {
    throw new InputError(
      'launch-template',
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
