/**
 * The ClientToken of CreateLaunchTemplateVersion: the same for every attempt to publish one
 * snapshot from one run (so a retried step gets the version the first try made, not a second
 * one), different for anything else. The run attempt is left out on purpose.
 */
import { createHash } from 'node:crypto'
import type { Provenance } from '../../model/provenance.js'

export function publishToken(
  run: Pick<Provenance, 'repository' | 'sha' | 'runId'>,
  launchTemplateId: string,
  device: string,
  snapshotId: string
): string {
  const digest = createHash('sha256')
    .update([run.repository, run.sha, run.runId, launchTemplateId, device, snapshotId].join('\n'))
    .digest('hex')
  // At most 128 ASCII characters are allowed.
  return `ebs-autoscale-${digest.slice(0, 48)}`
}
