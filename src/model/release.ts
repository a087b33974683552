/**
 * A release as a rollback returns to it: the commit and the snapshot a launch template's
 * default version maps at the code device. Written by the snapshot side (ops/previous.ts),
 * read by the rollout side (rollback.ts): a model of its own so neither imports the other.
 * Empty strings when they could not be read.
 */
/** The tag naming a host's (or a snapshot's, or a launch's) release on the code volume. */
export const RELEASE_TAG = 'ebs-autoscale:release'

export interface PreviousRelease {
  commit: string
  snapshotId: string
}
