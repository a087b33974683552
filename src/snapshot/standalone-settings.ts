/**
 * The rules of a snapshot taken on its own (the snapshot action; the deploy takes the primary's
 * volume and always publishes): which volume, and which settings need a launch template.
 * Typed values in, a SettingError naming the field out, before any AWS call.
 */
import { setting, SettingError } from '../errors.js'
import { INSTANCE_ID } from '../hosts/host.js'

const VOLUME_ID = /^vol-[0-9a-f]{8,17}$/

const quote = (s: string): string => JSON.stringify(s)

/** `instanceId` (with `device`) or `volumeId`: exactly one, each well formed. */
export function checkSnapshotSource(instanceId?: string, volumeId?: string): void {
  if (instanceId && volumeId) {
    throw new SettingError(
      'volumeId',
      `is set together with ${setting('instanceId')}. Expected one of them: ${setting('instanceId')} (with ${setting('device')}) or ${setting('volumeId')}.`
    )
  }
  if (volumeId) {
    if (!VOLUME_ID.test(volumeId)) {
      throw new SettingError(
        'volumeId',
        `${quote(volumeId)} is not a volume id. Expected e.g. "vol-0123456789abcdef0".`
      )
    }
    return
  }
  if (!instanceId) {
    throw new SettingError(
      'instanceId',
      `is required (or ${setting('volumeId')}). Expected the instance whose code volume to snapshot, e.g. resolve-hosts' primary-instance-id.`
    )
  }
  if (!INSTANCE_ID.test(instanceId)) {
    throw new SettingError(
      'instanceId',
      `${quote(instanceId)} is not an instance id. Expected e.g. "i-0123456789abcdef0".`
    )
  }
}

/** Which publish settings are set: each needs a launch template to publish to. */
export interface PublishSettingsGiven {
  groups: boolean
  instanceRefresh: boolean
  keepVersions: boolean
  volumeInitializationRate: boolean
}

/**
 * The snapshot action's publish rules: settings that need a launch template have one, and a
 * template is published to only after waiting for the snapshot.
 */
export function checkPublishable(
  launchTemplate: string | undefined,
  given: PublishSettingsGiven,
  wait: boolean
): void {
  if (!launchTemplate) {
    const field = (Object.keys(given) as Array<keyof PublishSettingsGiven>).find((f) => given[f])
    if (field) {
      throw new SettingError(
        field,
        `needs ${setting('launchTemplate')}. Expected the launch template to publish the snapshot to.`
      )
    }
  }
  if (launchTemplate && !wait) {
    throw new SettingError(
      'wait',
      `is false while ${setting('launchTemplate')} is set. Expected ${setting('wait')}: true: instances cannot launch from a snapshot that has not completed.`
    )
  }
}
