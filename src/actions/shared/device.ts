/** `device` (snapshot, deploy, and rollout's launch-template): the code volume's device name. */
import type { Inputs } from './inputs.js'
import { checkDevice } from '../../snapshot/template-settings.js'

export function readDevice(inputs: Inputs): string {
  return checkDevice(inputs.string('device', '/dev/sdf'))
}
