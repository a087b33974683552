/**
 * The rules of where a snapshot is published, whoever reads them: typed values in, a
 * SettingError naming the field out. Checked before any AWS call.
 */
import { setting, SettingError } from '../errors.js'
import { LAUNCH_TEMPLATE_ID, LAUNCH_TEMPLATE_NAME } from './ops/template.js'

const SOURCE_VERSION = /^(\$Default|\$Latest|[1-9]\d*)$/

/** A launch template id or name (as the launch template's own rules allow). */
export function checkLaunchTemplate(launchTemplate: string): string {
  if (!LAUNCH_TEMPLATE_ID.test(launchTemplate) && !LAUNCH_TEMPLATE_NAME.test(launchTemplate)) {
    throw new SettingError(
      'launchTemplate',
      `${JSON.stringify(launchTemplate)} is neither a launch template id nor a name. Expected e.g. "lt-0123456789abcdef0" or "app-servers".`
    )
  }
  return launchTemplate
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
