/**
 * The release inputs (deploy and rollout): `artifact` and where it is kept and fetched from, the
 * layout on each host (`mount-point`, `keep-releases`, `activate`), and `rollback-to`. Every rule
 * is checked here, before any AWS call.
 */
import { InputError } from '../../errors.js'
import type { RunContext } from '../../github/context.js'
import { parseRollbackTarget, type RollbackTarget } from '../../release/release-id.js'
import type { ReleaseOptions } from '../../release/rollout-scripts.js'
import type { ReleaseSettings, StoreSettings } from '../../release/ship.js'
import { validateBucket, validatePrefix } from '../../release/store.js'
import type { Inputs } from './inputs.js'
import { readMountPoint } from './mount-point.js'
import { readScripts } from './scripts.js'

/** A presigned URL lives this long at most: S3's limit is 7 days. */
const MAX_URL_LIFETIME_MS = 7 * 24 * 3_600_000

export interface ReleaseInputs {
  release?: ReleaseOptions
  rollbackTo?: { target: RollbackTarget; settings: ReleaseSettings }
}

export function readRelease(inputs: Inputs, ctx: RunContext): ReleaseInputs {
  const artifact = inputs.optional('artifact')
  const rollbackTo = inputs.optional('rollback-to')
  if (artifact && rollbackTo) {
    throw new InputError(
      'rollback-to',
      `${JSON.stringify(rollbackTo)} is set together with artifact. Expected one of them: artifact ships a new release, rollback-to switches back to one the hosts hold.`
    )
  }
  const settings = readLayout(
    inputs,
    artifact ? 'artifact' : rollbackTo ? 'rollback-to' : undefined
  )
  const store = readStore(inputs, artifact !== undefined)
  if (rollbackTo && settings) {
    const target = parseRollbackTarget(rollbackTo)
    return { rollbackTo: { target, settings: { ...settings, ...(store ? { store } : {}) } } }
  }
  if (!artifact || !settings || !store) return {}
  if (inputs.text('rollback-commands').trim()) {
    throw new InputError(
      'rollback-commands',
      'is set together with artifact. Expected one of them: with an artifact, a failed rollout switches each host back to the release it replaced (seconds, no rebuild); rollback-commands are for deploys without one.'
    )
  }
  const tempDirectory = process.env['RUNNER_TEMP']
  return {
    release: {
      settings: { ...settings, artifact, store, ...(tempDirectory ? { tempDirectory } : {}) },
      commit: ctx.sha,
      ...readScripts(inputs, ctx)
    }
  }
}

/** mount-point (required by `needs`), keep-releases and activate. */
function readLayout(inputs: Inputs, needs: string | undefined): ReleaseSettings | undefined {
  const mountPoint = readMountPoint(inputs)
  const keepReleases = inputs.integer('keep-releases', 5, { min: 1, max: 100 })
  const activate = inputs.text('activate')
  if (!needs) return undefined
  if (!mountPoint) {
    throw new InputError(
      'mount-point',
      `is required with ${needs}. Expected where the code volume is mounted on each host, e.g. "/srv/app": releases/ and current live there.`
    )
  }
  return { mountPoint, keepReleases, ...(activate.trim() ? { activate } : {}) }
}

/** artifact-bucket (required with an artifact), -prefix, -fetch and -url-lifetime. */
function readStore(inputs: Inputs, required: boolean): StoreSettings | undefined {
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
  if (!bucket) {
    if (!required) return undefined
    throw new InputError(
      'artifact-bucket',
      'is required with artifact. Expected the S3 bucket the artifact is uploaded to, e.g. "acme-shop-releases".'
    )
  }
  return {
    bucket: validateBucket(bucket),
    prefix,
    fetch,
    urlLifetimeSeconds: Math.round(lifetimeMs / 1000)
  }
}
