/** The rollout action's own inputs: its hosts, then the shared rollout, traffic and rollback. */
import type { RolloutFlowOptions } from '../../flows/rollout.js'
import type { HostSelection } from '../../hosts/find.js'
import { checkInstanceIds, hostSelectionOf } from '../../hosts/selection-settings.js'
import type { Provenance } from '../../model/provenance.js'
import { checkRollbackSource } from '../../rollout/settings.js'
import { readDevice } from '../shared/device.js'
import { readHostQuery } from '../shared/hosts.js'
import type { Inputs } from '../shared/inputs.js'
import { readLaunchTemplate } from '../shared/launch-template.js'
import { readRelease } from '../shared/release.js'
import { readRollbackSettings } from '../shared/rollback.js'
import { readRolloutSettings } from '../shared/rollout.js'
import { readTrafficSettings } from '../shared/traffic.js'

/** The rollout action's inputs, every one checked before anything is read or changed. */
export function readRolloutFlowOptions(inputs: Inputs, ctx: Provenance): RolloutFlowOptions {
  const hosts = readHostSelection(inputs)
  const rollout = readRolloutSettings(inputs, ctx)
  const traffic = readTrafficSettings(inputs)
  const rollback = readRollbackSettings(inputs, ctx)
  const device = readDevice(inputs)
  const launchTemplate = readLaunchTemplate(inputs)
  checkRollbackSource(launchTemplate, !!rollback)
  return {
    hosts,
    rollout,
    traffic,
    ...readRelease(inputs, ctx),
    ...(rollback ? { rollback } : {}),
    ...(launchTemplate ? { previousFrom: { launchTemplate, device } } : {})
  }
}

/** `instance-ids`, or `tags` and/or `asg-name`: one way to choose the hosts. */
function readHostSelection(inputs: Inputs): HostSelection {
  const instanceIds = readInstanceIds(inputs)
  return hostSelectionOf(instanceIds, readHostQuery(inputs, { requireSelector: false }))
}

/** `instance-ids` as given (resolve-hosts' JSON output or a plain list), the first the primary. */
export function readInstanceIds(inputs: Inputs): string[] {
  const ids = inputs.list('instance-ids')
  checkInstanceIds(ids)
  return ids
}
