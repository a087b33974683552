/** `device` (snapshot, deploy, and rollout's launch-template): the code volume's device name. */
import { InputError } from '../../errors.js'
import type { Inputs } from './inputs.js'
import { isDeviceName } from '../../snapshot/ops/device.js'

export function readDevice(inputs: Inputs): string {
  const device = inputs.string('device', '/dev/sdf')
  if (!isDeviceName(device)) {
    throw new InputError(
      'device',
      `${JSON.stringify(device)} is not an EBS device name. Expected e.g. "/dev/sdf", "sdf", "/dev/xvdf" or "xvdf".`
    )
  }
  return device
}
