/**
 * What a shipped release makes of the rollout's scripts. Each host's command is a release script
 * (fetch, check, unpack, the commands inside the new release, switch, activate, prune), made when
 * the command is sent so its presigned URL is fresh; run-once runs in the new release on the
 * primary. A failed rollout switches back (only the hosts that switched to this release), and
 * `rollback-to` switches every host to a release it holds (fetching it again if it can).
 */
import type { HostScript } from '../rollout/host-script.js'
import { buildScript, type ScriptOptions } from '../rollout/script.js'
import {
  buildReleaseScript,
  buildRollbackScript,
  type HostArtifact,
  type RollbackScriptOptions
} from './host-script.js'
import type { RollbackTarget } from './release-id.js'
import type { ReleaseSettings, ShippedRelease, ShipSettings } from './ship.js'
import type { ArtifactStore, StoredArtifact } from './store.js'

/** The user's commands (and run-once) as the release runs them: inside the new release. */
export interface ReleaseOptions {
  settings: ShipSettings
  /** The commit it was built from: the release id names it. */
  commit: string
  /** `commands` may be empty: the release is then unpacked, switched and activated only. */
  commands: ScriptOptions
  runOnce?: ScriptOptions
}

/** Never printed: the URL is a credential until it expires. */
const SHOWN_SOURCE = { kind: 'url', url: '<presigned URL, made when the command is sent>' } as const

/** Where a host fetches `stored`, made at send time; the log and dry runs show a placeholder. */
function fetched(
  store: ArtifactStore,
  stored: StoredArtifact,
  build: (artifact: HostArtifact) => string[]
): HostScript {
  return {
    shown: build({ sha256: stored.sha256, source: SHOWN_SOURCE }),
    make: async () => build({ sha256: stored.sha256, source: await store.source(stored) })
  }
}

export const releaseDir = (settings: ReleaseSettings, id: string): string =>
  `${settings.mountPoint.replace(/(.)\/+$/, '$1')}/releases/${id}`

/** The env every script of a release gets beside the user's. */
const releaseEnv = (settings: ReleaseSettings, id: string): Array<[string, string]> => [
  ['EBS_AUTOSCALE_RELEASE', id],
  ['EBS_AUTOSCALE_RELEASE_DIR', releaseDir(settings, id)]
]

export function releaseScripts(
  release: ShippedRelease,
  options: ReleaseOptions
): { script: HostScript; runOnceScript?: HostScript } {
  const { settings, commands, runOnce } = options
  const env = [...(commands.env ?? []), ...releaseEnv(settings, release.id)]
  const script = fetched(release.store, release.stored, (artifact) =>
    buildReleaseScript({
      mountPoint: settings.mountPoint,
      releaseId: release.id,
      artifact,
      commands: commands.commands,
      env,
      ...(commands.runAs ? { runAs: commands.runAs } : {}),
      ...(settings.activate ? { activate: settings.activate } : {}),
      keepReleases: settings.keepReleases,
      ...(commands.logName ? { logName: commands.logName } : {}),
      // Passed on like the other script options (it was dropped: a release's commands always
      // logged to /var/log/ebs-autoscale, whatever the caller asked for).
      ...(commands.logDirectory ? { logDirectory: commands.logDirectory } : {})
    })
  )
  if (!runOnce) return { script }
  const runOnceScript = buildScript({
    ...runOnce,
    env: [...(runOnce.env ?? []), ...releaseEnv(settings, release.id)],
    workingDirectory: releaseDir(settings, release.id)
  })
  return { script, runOnceScript }
}

/** A failed rollout's way back: the hosts on this release return to the one they replaced. */
export function switchBackScript(release: ShippedRelease, settings: ReleaseSettings): HostScript {
  return buildRollbackScript({
    ...switchOptions(settings),
    target: { kind: 'previous' },
    onlyFrom: release.id
  })
}

/**
 * `rollback-to`: every host switches to `target`. A host that lacks a named release fetches it
 * again when the store still has its artifact (`found`); else it fails by name.
 */
export function rollbackToScript(
  target: RollbackTarget,
  settings: ReleaseSettings,
  found?: { store: ArtifactStore; stored: StoredArtifact }
): HostScript {
  const options = { ...switchOptions(settings), target }
  if (!found) return buildRollbackScript(options)
  return fetched(found.store, found.stored, (artifact) =>
    buildRollbackScript({ ...options, artifact })
  )
}

function switchOptions(settings: ReleaseSettings): Omit<RollbackScriptOptions, 'target'> {
  return {
    mountPoint: settings.mountPoint,
    ...(settings.activate ? { activate: settings.activate } : {})
  }
}
