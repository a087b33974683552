/**
 * The snapshot core, in phases the deploy and the snapshot action call one by one:
 * prepareTargets -> createCodeSnapshot -> waitOrMarkFailed -> publishToTargets ->
 * refreshTargets -> retain; markSnapshotFailed or discardSnapshot when a rollout fails.
 */
export * from './types.js'
export { createCodeSnapshot, type CreateSnapshotOptions, type SnapshotSpec } from './create.js'
export { waitForSnapshot, SnapshotFailedError, type WaitOptions } from './wait.js'
export {
  publishSnapshot,
  ConcurrentDefaultChangeError,
  versionDescription,
  type PublishOptions
} from './publish.js'
export { inspectGroups, groupUsage, picksUp, pinnedGroupWarning } from './groups.js'
export {
  activeInstanceRefresh,
  startInstanceRefresh,
  waitForInstanceRefresh,
  RefreshInProgressError
} from './refresh.js'
export { applyRetention, type RetentionOptions } from './retention.js'
export { markSnapshotFailed, discardSnapshot } from './failed.js'
export { findCodeVolume } from './volume.js'
export { describeLaunchTemplate, type LaunchTemplateRef } from './template.js'
export { withCodeSnapshot } from './mappings.js'
export { deviceAliases, isDeviceName, sameDevice } from './device.js'
export { TAG, snapshotTags, defaultDescription } from './tags.js'
export {
  prepareTargets,
  targetFailure,
  type PreparedTarget,
  type PublishSettings,
  type PublishTarget,
  type SnapshotPhase,
  type TargetReport
} from './targets.js'
export { publishToTargets } from './publishing.js'
export { refreshTargets } from './refresh.js'
export { retain, type RetentionSettings } from './retain.js'
export { waitOrMarkFailed } from './wait.js'
export {
  runSnapshotAction,
  DEFAULT_DEVICE,
  type SnapshotActionOptions,
  type SnapshotActionResult,
  type SnapshotClients
} from './run.js'
