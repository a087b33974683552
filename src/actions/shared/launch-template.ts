/** `launch-template` (snapshot, deploy, and rollout's rollback source): an id or a name. */
import { InputError } from '../../errors.js'
import type { Inputs } from './inputs.js'
import { LAUNCH_TEMPLATE_ID, LAUNCH_TEMPLATE_NAME } from '../../snapshot/ops/template.js'

/** Undefined when empty. */
export function readLaunchTemplate(inputs: Inputs): string | undefined {
  const launchTemplate = inputs.optional('launch-template')
  if (!launchTemplate) return undefined
  if (!LAUNCH_TEMPLATE_ID.test(launchTemplate) && !LAUNCH_TEMPLATE_NAME.test(launchTemplate)) {
    throw new InputError(
      'launch-template',
      `${JSON.stringify(launchTemplate)} is neither a launch template id nor a name. Expected e.g. "lt-0123456789abcdef0" or "app-servers".`
    )
  }
  return launchTemplate
}
