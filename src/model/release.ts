/** A deployed version of the code, as the launch template's default version maps it. */

/** The release the launch template's default version maps today (empty strings if unknown). */
export interface PreviousRelease {
  commit: string
  snapshotId: string
}
