/**
 * The release inputs (deploy and rollout): `artifact` and where it is kept and fetched from, the
 * layout on each host (`mount-point`, `keep-releases`, `activate`), and `rollback-to`. The rules
 * are the core's (src/release/settings.ts), checked here before any AWS call.
 */
import type { Provenance } from '../../model/provenance.js'
import { parseRollbackTarget, type RollbackTarget } from '../../release/release-id.js'
import type { ReleaseOptions } from '../../release/rollout-scripts.js'
import {
  checkReleaseMode,
  checkReleaseRollback,
  releaseMountPoint,
  requireStore
} from '../../release/settings.js'
import type { ReleaseSettings, StoreSettings } from '../../release/ship.js'
import { validateBucket, validatePrefix } from '../../release/store.js'
import type { Inputs } from './inputs.js'
import { readScripts } from './scripts.js'

/** A presigned URL lives this long at most: S3's limit is 7 days. */
const MAX_URL_LIFETIME_MS = 7 * 24 * 3_600_000

export interface ReleaseInputs {
  release?: ReleaseOptions
  rollbackTo?: { target: RollbackTarget; settings: ReleaseSettings }
}

export function readRelease(inputs: Inputs, ctx: Provenance): ReleaseInputs {
  const artifact = inputs.optional('artifact')
  const rollbackTo = inputs.optional('rollback-to')
  checkReleaseMode(artifact, rollbackTo)
  checkReleaseRollback(artifact, inputs.text('rollback-commands'))
  const store = readStore(inputs)
  const keepReleases = inputs.integer('keep-releases', 5, { min: 1, max: 100 })
  const activateText = inputs.text('activate')
  const activate = activateText.trim() ? { activate: activateText } : {}
  const mountPoint = inputs.optional('mount-point')
  if (rollbackTo) {
    const target = parseRollbackTarget(rollbackTo)
    const at = releaseMountPoint(mountPoint, 'rollbackTo')
    const settings = { mountPoint: at, keepReleases, ...activate, ...(store ? { store } : {}) }
    return { rollbackTo: { target, settings } }
  }
  if (!artifact) return {}
  const layout = {
    mountPoint: releaseMountPoint(mountPoint, 'artifact'),
    keepReleases,
    ...activate
  }
  const shipFrom = requireStore(store)
  const tempDirectory = process.env['RUNNER_TEMP']
  return {
    release: {
      settings: {
        ...layout,
        artifact,
        store: shipFrom,
        ...(tempDirectory ? { tempDirectory } : {})
      },
      commit: ctx.sha,
      ...readScripts(inputs, ctx)
    }
  }
}

/** The store, when artifact-bucket is set; its other inputs are checked either way. */
function readStore(inputs: Inputs): StoreSettings | undefined {
  const bucket = inputs.optional('artifact-bucket')
  const prefix = validatePrefix(inputs.string('artifact-prefix', 'ebs-autoscale'))
  const fetch = inputs.oneOf(
    'artifact-fetch',
    ['presigned-url', 'instance-role'] as const,
    'presigned-url'
  )
  const lifetimeMs = inputs.duration('artifact-url-lifetime', '15m', {
    minMs: 60_000,
    maxMs: MAX_URL_LIFETIME_MS
  })
  const urlLifetimeSeconds = Math.round(lifetimeMs / 1000)
  return bucket ? { bucket: validateBucket(bucket), prefix, fetch, urlLifetimeSeconds } : undefined
}
