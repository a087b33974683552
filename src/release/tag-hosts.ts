/**
 * The fleet at a glance: each host's release, as its script's last line says `current` names,
 * recorded where AWS shows it, the instance tag `ebs-autoscale:release` (resolve-hosts reads it).
 * A tag that cannot be written is a warning: the release is on the host whatever the tag says.
 */
import { CreateTagsCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { chunk } from '../collections.js'
import { aws, errorMessage } from '../errors.js'
import type { Log } from '../log.js'
import type { HostResult } from '../rollout/types.js'
import { TAG } from '../snapshot/ops/tags.js'
import { parseReleaseLine } from './host-script.js'

/** What `current` names on each host after its script, by instance id (hosts that said). */
export function hostReleases(results: readonly HostResult[]): Map<string, string> {
  const releases = new Map<string, string>()
  for (const r of results) {
    if (r.status === 'Terminated') continue
    const line = parseReleaseLine(`${r.stdoutTail ?? ''}\n${r.stderrTail ?? ''}`)
    const current = line?.failed ? line.current : line?.id
    if (current) releases.set(r.instanceId, current)
  }
  return releases
}

export async function tagHostReleases(
  ec2: EC2Client,
  releases: ReadonlyMap<string, string>,
  log: Log
): Promise<void> {
  const byRelease = new Map<string, string[]>()
  for (const [id, release] of releases)
    byRelease.set(release, [...(byRelease.get(release) ?? []), id])
  for (const [release, ids] of byRelease) {
    for (const batch of chunk(ids, 500)) {
      const tags = new CreateTagsCommand({
        Resources: batch,
        Tags: [{ Key: TAG.release, Value: release }]
      })
      try {
        await aws('CreateTags', ec2.send(tags))
      } catch (err) {
        log.warning(
          `Could not tag ${batch.join(' ')} with ${TAG.release}=${release}: ${errorMessage(err)}`
        )
      }
    }
  }
}
