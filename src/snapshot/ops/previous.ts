/**
 * Where a rollback returns to: the snapshot a launch template's default version maps at the
 * code device today, and the commit it was tagged with. Deploy reads it for the template it
 * publishes to; the rollout action for its launch-template input. Read-only, before anything
 * changes; what cannot be read is left empty (a rollback still runs, with less to go on).
 */
import { DescribeSnapshotsCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { aws, errorMessage } from '../../errors.js'
import type { Log } from '../../log.js'
import type { PreviousRelease } from '../../model/release.js'
import { sameDevice } from './device.js'
import { TAG } from './tags.js'
import { describeLaunchTemplate, describeVersion, type LaunchTemplateRef } from './template.js'

export async function previousRelease(
  ec2: EC2Client,
  template: { id: string; defaultVersion: number },
  device: string,
  log: Log
): Promise<PreviousRelease> {
  try {
    const version = await describeVersion(ec2, template.id, String(template.defaultVersion))
    const mapping = version.LaunchTemplateData?.BlockDeviceMappings?.find(
      (m) => m.DeviceName !== undefined && sameDevice(m.DeviceName, device)
    )
    const snapshotId = mapping?.Ebs?.SnapshotId ?? ''
    if (!snapshotId) return { commit: '', snapshotId: '' }
    const out = await aws(
      'DescribeSnapshots',
      ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
    )
    const commit = out.Snapshots?.[0]?.Tags?.find((t) => t.Key === TAG.commit)?.Value ?? ''
    return { commit, snapshotId }
  } catch (err) {
    log.warning(`Could not read the release the template's default maps: ${errorMessage(err)}`)
    return { commit: '', snapshotId: '' }
  }
}

/**
 * The template named by id or name, then its default's release. A template that does not
 * exist fails here, by name (it was asked for); an unreadable mapping only warns.
 */
export async function previousReleaseOf(
  ec2: EC2Client,
  idOrName: string,
  device: string,
  log: Log
): Promise<{ template: LaunchTemplateRef; previous: PreviousRelease }> {
  const template = await describeLaunchTemplate(ec2, idOrName)
  return { template, previous: await previousRelease(ec2, template, device, log) }
}
