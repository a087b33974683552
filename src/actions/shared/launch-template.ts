/** `launch-template` (snapshot, deploy, and rollout's rollback source): an id or a name. */
import type { Inputs } from './inputs.js'
import { checkLaunchTemplate } from '../../snapshot/template-settings.js'

/** Undefined when empty. */
export function readLaunchTemplate(inputs: Inputs): string | undefined {
  const launchTemplate = inputs.optional('launch-template')
  return launchTemplate ? checkLaunchTemplate(launchTemplate) : undefined
}
