/**
 * The snapshot core, in phases the deploy pipeline can call one by one:
 * createCodeSnapshot -> waitForSnapshot -> publishSnapshot -> inspectGroups / instance refresh
 * -> applyRetention; markSnapshotFailed or discardSnapshot when a rollout fails.
 */
export * from './types.js'
export { createCodeSnapshot, type CreateSnapshotOptions } from './create.js'
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
  runSnapshotAction,
  DEFAULT_DEVICE,
  type SnapshotActionOptions,
  type SnapshotActionResult,
  type SnapshotClients,
  type SnapshotPhase
} from './run.js'
