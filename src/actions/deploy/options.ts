/** The deploy's inputs, every one parsed and checked before anything is read or changed. */
import type { DeployOptions } from '../../deploy/types.js'
import type { Provenance } from '../../model/provenance.js'
import { readAlarmInputs } from '../shared/alarms.js'
import { readHostQuery } from '../shared/hosts.js'
import type { Inputs } from '../shared/inputs.js'
import { readRelease } from '../shared/release.js'
import { readRollbackSettings } from '../shared/rollback.js'
import { readRolloutSettings } from '../shared/rollout.js'
import { readPublishSettings, readSnapshotSpec, readSnapshotTimeout } from '../shared/snapshot.js'
import { readTrafficSettings } from '../shared/traffic.js'

export function readDeployOptions(inputs: Inputs, ctx: Provenance): DeployOptions {
  const query = readHostQuery(inputs, { requireSelector: true })
  const rollout = readRolloutSettings(inputs, ctx)
  // The snapshot action's description is named for the snapshot here.
  const renamed = inputs.renamed({ description: 'snapshot-description' })
  const snapshot = { ...readSnapshotSpec(renamed, ctx), timeoutMs: readSnapshotTimeout(renamed) }
  const { target, retention, device, ...publish } = readPublishSettings(inputs)
  const warmPools = inputs.oneOf('warm-pools', ['replace', 'keep'] as const, 'replace')
  const onFailure = inputs.oneOf('on-failure', ['tag', 'delete'] as const, 'tag')
  const catchUp = {
    maxRounds: inputs.integer('catch-up-rounds', 3, { min: 0, max: 20 }),
    readyTimeoutMs: inputs.duration('catch-up-timeout', '10m', { minMs: 1000, maxMs: 3_600_000 })
  }
  const traffic = readTrafficSettings(inputs)
  const rollback = readRollbackSettings(inputs, ctx)
  const alarms = readAlarmInputs(inputs)
  const lock = {
    timeoutMs: inputs.duration('lock-timeout', '5m', { minMs: 0, maxMs: 3_600_000 }),
    holdMs: lockHoldMs(rollout.deadlineMs, snapshot.timeoutMs, catchUp.readyTimeoutMs),
    heartbeat: LOCK_HEARTBEAT
  }
  return {
    query,
    rollout,
    device,
    snapshot,
    publish: { ...publish, targets: [target] },
    retention,
    onFailure,
    catchUp,
    dryRun: rollout.dryRun,
    traffic,
    ...(rollback ? { rollback } : {}),
    ...alarms,
    lock,
    warmPools,
    ...readRelease(inputs, ctx)
  }
}

/**
 * The lock is renewed every minute while the run lives; one not renewed for five minutes is a
 * dead run's (the runner lost), taken over by the next deploy once that run's cleanup is done.
 */
export const LOCK_HEARTBEAT = { renewMs: 60_000, staleMs: 5 * 60_000 }

/** Past this, a lock's holder has outlived its own budget: rollout, snapshot, catch-up, margin. */
export const lockHoldMs = (deadlineMs: number, snapshotMs: number, catchUpMs: number): number =>
  deadlineMs + snapshotMs + catchUpMs + 15 * 60_000
