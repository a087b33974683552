/**
 * The launch template and the code device, as every capability that names them takes them (the
 * rollout's rollback source, the snapshot, the deploy): a SettingError naming the field when
 * malformed. Checked before any AWS call.
 */
import { SettingError } from '../errors.js'
import { isDeviceName } from './ops/device.js'
import { LAUNCH_TEMPLATE_ID, LAUNCH_TEMPLATE_NAME } from './ops/template.js'

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

/** The code volume's device name, in any of its spellings. */
export function checkDevice(device: string): string {
  if (!isDeviceName(device)) {
    throw new SettingError(
      'device',
      `${JSON.stringify(device)} is not an EBS device name. Expected e.g. "/dev/sdf", "sdf", "/dev/xvdf" or "xvdf".`
    )
  }
  return device
}
