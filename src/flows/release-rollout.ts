/**
 * Rollouts of releases, through a rollout session. Shipping: the artifact is packed on the runner
 * before anything changes (a bad path fails there), uploaded once the read-only checks passed,
 * then each host fetches, checks, unpacks and switches; a failed rollout switches back the hosts
 * that switched. `rollback-to`: every host switches to a release it holds. Either way each
 * host's release ends up in its instance tag.
 */
import type { Clients } from '../aws/clients.js'
import { type Artifact, discardArtifact } from '../release/artifact.js'
import type { RollbackTarget } from '../release/release-id.js'
import { releaseId } from '../release/release-id.js'
import {
  type ReleaseOptions,
  releaseScripts,
  rollbackToScript,
  switchBackScript
} from '../release/rollout-scripts.js'
import {
  artifactStore,
  findRelease,
  type ReleaseSettings,
  type ShippedRelease,
  shipRelease
} from '../release/ship.js'
import { hostReleases, tagHostReleases } from '../release/tag-hosts.js'
import type { RollbackResult } from '../rollout/rollback.js'
import type { RolloutOptions } from '../rollout/run.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import type { RolloutSession } from './rollout-session.js'

/** What a release rollout shipped, and what `current` names on each host after it. */
export interface ReleaseRun {
  /** The release shipped; absent for rollback-to. */
  id?: string
  /** False when the store had the artifact already (a re-run of the same content). */
  uploaded?: boolean
  /** S3 calls by API. */
  s3Requests?: Record<string, number>
  /** instance id -> the release its `current` names (hosts whose script said). */
  hosts: Record<string, string>
}

export interface SessionRun {
  session: RolloutSession
  options: RolloutOptions
  runtime: Runtime
  /** A rollout of the fleet through the session, watched as the flow watches it (alarms). */
  roll(options: RolloutOptions): Promise<RolloutResult>
}

export interface ReleaseOutcome {
  rollout: RolloutResult
  rollback?: RollbackResult
  release: ReleaseRun
}

/**
 * The rollout that ships the artifact packed (read-only, on the runner), to run once the
 * read-only checks passed. A dry run uploads nothing and names the release it would be.
 */
export function releaseRollout(
  clients: Clients,
  release: ReleaseOptions,
  artifact: Artifact,
  runtime: Runtime
): (run: SessionRun) => Promise<ReleaseOutcome> {
  return async ({ session, options, roll }) => {
    const shipped = await shipOrPlan(clients, release, artifact, options.dryRun, runtime)
    const rollout = await roll({ ...options, ...releaseScripts(shipped, release) })
    const back = !rollout.ok && !rollout.dryRun
    const rollback = back
      ? await session.rollBack(rollout, options, {
          script: switchBackScript(shipped, release.settings),
          previous: { commit: '', snapshotId: '' }
        })
      : undefined
    const hosts = await recordReleases(
      clients,
      [rollout, rollback?.rollout],
      options.dryRun,
      runtime
    )
    const run = {
      id: shipped.id,
      uploaded: shipped.stored.uploaded,
      s3Requests: shipped.store.requests,
      hosts
    }
    return { rollout, ...(rollback ? { rollback } : {}), release: run }
  }
}

/** Uploads and names the release; a dry run only says which it would be. */
export async function shipOrPlan(
  clients: Clients,
  release: ReleaseOptions,
  artifact: Artifact,
  dryRun: boolean,
  runtime: Runtime
): Promise<ShippedRelease> {
  if (dryRun) return plannedRelease(clients, release, artifact)
  return shipRelease(clients.s3, release.settings, artifact, release.commit, runtime.log)
}

/** A dry run's release: the id it would get (no record written), the key it would have. */
async function plannedRelease(
  clients: Clients,
  release: ReleaseOptions,
  artifact: Artifact
): Promise<ShippedRelease> {
  await discardArtifact(artifact)
  const store = artifactStore(clients.s3, release.settings.store)
  const id = releaseId({ commit: release.commit, sha256: artifact.sha256 })
  const key = store.keyOf(artifact.sha256)
  const stored = { bucket: store.bucket, key, sha256: artifact.sha256, size: artifact.size }
  return { id, stored: { ...stored, uploaded: false }, store }
}

/** rollback-to: every host switches to `target`, fetching it again where the store still can. */
export async function rollbackToRollout(
  clients: Clients,
  { session, options, runtime }: SessionRun,
  rollbackTo: { target: RollbackTarget; settings: ReleaseSettings }
): Promise<ReleaseOutcome> {
  const { target, settings } = rollbackTo
  const found =
    target.kind === 'release' && settings.store
      ? await findRelease(artifactStore(clients.s3, settings.store), target.id)
      : undefined
  const script = rollbackToScript(target, settings, found)
  const rollout = await session.run({ ...options, script, runOnceScript: undefined })
  const hosts = await recordReleases(clients, [rollout], options.dryRun, runtime)
  return { rollout, release: { hosts } }
}

/** Each host's release after these rollouts (later ones win), tagged on the instances. */
export async function recordReleases(
  clients: Clients,
  rollouts: ReadonlyArray<RolloutResult | undefined>,
  dryRun: boolean,
  runtime: Runtime
): Promise<Record<string, string>> {
  const releases = hostReleases(rollouts.flatMap((r) => r?.results ?? []))
  if (!dryRun) await tagHostReleases(clients.ec2, releases, runtime.log)
  return Object.fromEntries(releases)
}
