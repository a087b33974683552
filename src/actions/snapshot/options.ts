/** The snapshot action's own inputs: its source and `wait`, then the shared snapshot settings. */
import type { PublishFlowOptions } from '../../flows/publish.js'
import type { Provenance } from '../../model/provenance.js'
import { checkPublishable, checkSnapshotSource } from '../../snapshot/standalone-settings.js'
import type { SnapshotSource } from '../../snapshot/types.js'
import { readDevice } from '../shared/device.js'
import type { Inputs } from '../shared/inputs.js'
import { readPublishSettings, readSnapshotSpec, readSnapshotTimeout } from '../shared/snapshot.js'

/** `instance-id` (+ `device`) or `volume-id`: exactly one. */
export function readSnapshotSource(inputs: Inputs): SnapshotSource {
  const instanceId = inputs.optional('instance-id')
  const volumeId = inputs.optional('volume-id')
  checkSnapshotSource(instanceId, volumeId)
  return volumeId
    ? { kind: 'volume', volumeId }
    : { kind: 'instance', instanceId: instanceId!, device: readDevice(inputs) }
}

/** The snapshot action's inputs: its own source and `wait`, then the shared settings. */
export function readSnapshotActionSettings(inputs: Inputs, ctx: Provenance): PublishFlowOptions {
  const source = readSnapshotSource(inputs)
  const wait = inputs.boolean('wait', true)
  const snapshot = readSnapshotSpec(inputs, ctx)
  const timeoutMs = readSnapshotTimeout(inputs)
  const publish = readPublishSettings(inputs)
  const launchTemplate = publish.target.launchTemplate
  const given = {
    groups: !!publish.target.groups,
    instanceRefresh: !!publish.instanceRefresh,
    keepVersions: publish.retention.keepVersions > 0,
    volumeInitializationRate: publish.volumeInitializationRate !== undefined
  }
  checkPublishable(launchTemplate, given, wait)
  const { target, retention, ...settings } = publish
  const warmPools = inputs.oneOf('warm-pools', ['replace', 'keep'] as const, 'replace')
  return {
    source,
    snapshot,
    wait,
    timeoutMs,
    ...(launchTemplate
      ? { publish: { ...settings, targets: [{ ...target, launchTemplate }] }, warmPools }
      : {}),
    retention,
    dryRun: inputs.boolean('dry-run', false)
  }
}
