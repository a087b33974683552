/**
 * Whether an instance runs the old code: the launch template version it was launched from
 * (its aws:ec2launchtemplate:id and :version tags) does not map the code device to the new
 * snapshot. Judged by what the version boots, not by its number: someone else's later version
 * (a new AMI made the default right after the publish) may boot the old code, and a version of
 * ours that is not the default boots the new.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { Host } from '../hosts/host.js'
import { versionCodeSnapshot } from '../snapshot/ops/code-snapshot.js'

/** What the new code is: the snapshot a version maps the code device to. */
export interface NewCode {
  snapshotId: string
  /** The code device (any alias). */
  device: string
}

/**
 * A judge for one catch-up: each version is read once. Without new code (nothing published),
 * every instance has old code; so has one launched from no template, or from a version that
 * cannot be read (deleted since): the catch-up rollout is safe to repeat.
 */
export function oldCodeJudge(
  ec2: EC2Client,
  code: NewCode | undefined
): (host: Host) => Promise<boolean> {
  const boots = new Map<string, Promise<string | undefined>>()
  return async (host) => {
    const { launchTemplateId: id, launchTemplateVersion: version } = host
    if (!code || !id || !version) return true
    const key = `${id}:${version}`
    let snapshot = boots.get(key)
    if (!snapshot) {
      snapshot = versionCodeSnapshot(ec2, id, version, code.device).catch(() => undefined)
      boots.set(key, snapshot)
    }
    return (await snapshot) !== code.snapshotId
  }
}
