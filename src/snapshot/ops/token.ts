/**
 * The ClientToken of CreateLaunchTemplateVersion: the same for every attempt to publish one
 * snapshot from one source version in one run (so a retried step gets the version the first
 * try made, not a second one), different for anything else. The source version is in it: a
 * later publish of the same snapshot by the same run (a re-run of a rollback-to) made from a
 * newer default must make a new version from that default, not get the old one back. The run
 * attempt is left out on purpose.
 */
import { createHash } from 'node:crypto'
import type { Provenance } from '../../model/provenance.js'

export function publishToken(
  run: Pick<Provenance, 'repository' | 'sha' | 'runId'>,
  launchTemplateId: string,
  device: string,
  snapshotId: string,
  sourceVersion: number
): string {
  const parts = [run.repository, run.sha, run.runId, launchTemplateId, device, snapshotId]
  const digest = createHash('sha256')
    .update([...parts, String(sourceVersion)].join('\n'))
    .digest('hex')
  // At most 128 ASCII characters are allowed.
  return `ebs-autoscale-${digest.slice(0, 48)}`
}
