/** deploy: every input parsed up front -> runDeploy -> outputs, one summary, annotations. */
import * as core from '@actions/core'
import type { DeployResult } from '../../deploy/types.js'
import { runDeploy } from '../../flows/deploy.js'
import { ActionError } from '../../errors.js'
import { deployReport } from '../../report/deploy.js'
import { rolloutFailure } from '../../report/rollout.js'
import { withDeployedCommit } from '../shared/commit.js'
import { provenance } from '../shared/context.js'
import { hostOutputs, readHostQuery } from '../shared/hosts.js'
import { readRolloutSettings, rolloutOutputs } from '../shared/rollout.js'
import {
  clientsFromInputs,
  readInputs,
  runAction,
  runnerRuntime,
  setOutputs
} from '../shared/runner.js'
import {
  readPublishSettings,
  readSnapshotSpec,
  readSnapshotTimeout,
  snapshotOutputs
} from '../shared/snapshot.js'
import { markMainStep, runnerState } from '../shared/post.js'
import { readRollbackSettings } from '../shared/rollback.js'
import { readTrafficSettings } from '../shared/traffic.js'
import { readAlarmInputs } from '../shared/alarms.js'
import { FIELDS } from './fields.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    markMainStep()
    const inputs = readInputs()
    const ctx = await withDeployedCommit(inputs, provenance())
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
    const clients = clientsFromInputs(inputs, 'deploy')

    const result = await runDeploy(
      clients,
      {
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
        warmPools
      },
      runnerRuntime(),
      runnerState
    )
    setOutputs(deployOutputs(result))
    await core.summary.addRaw(deployReport(result, ctx, clients.region)).write()
    // The post step runs only after a failure: whatever is left held must fail the step.
    const left = result.settled.filter((s) => !s.ok).map((s) => s.outcome)
    const leftText = left.length
      ? ` ${left.length} thing(s) could not be cleaned up; the post step tries again: ${left.join(' ')}`
      : ''
    if (!result.ok && !result.dryRun) {
      const hosts = result.rollout && !result.rollout.ok ? ` ${rolloutFailure(result.rollout)}` : ''
      throw new ActionError(`${result.failure?.message ?? 'The deploy failed.'}${hosts}${leftText}`)
    }
    if (left.length) throw new ActionError(`The deploy succeeded, but${leftText}`)
  }, FIELDS)
}

/**
 * The lock is renewed every minute while the run lives; one not renewed for five minutes is a
 * dead run's (the runner lost), taken over by the next deploy once that run's cleanup is done.
 */
export const LOCK_HEARTBEAT = { renewMs: 60_000, staleMs: 5 * 60_000 }

/** Past this, a lock's holder has outlived its own budget: rollout, snapshot, catch-up, margin. */
export const lockHoldMs = (deadlineMs: number, snapshotMs: number, catchUpMs: number): number =>
  deadlineMs + snapshotMs + catchUpMs + 15 * 60_000

const NO_SNAPSHOT = {
  'snapshot-id': '',
  'volume-id': '',
  'snapshot-state': '',
  'launch-template-id': '',
  'launch-template-version': '',
  'previous-default-version': '',
  'published-versions': [],
  'deleted-snapshot-ids': [],
  'deleted-launch-template-versions': []
}

/** The union of the three actions' outputs, plus what only the whole pipeline knows. */
export function deployOutputs(result: DeployResult): Record<string, string | number | object> {
  const view = result.publish
  return {
    ...hostOutputs(result.hosts),
    ...(result.rollout ? rolloutOutputs(result.rollout) : {}),
    ...(view ? snapshotOutputs(view) : NO_SNAPSHOT),
    'caught-up-instance-ids': result.catchUp?.caughtUp ?? [],
    'rolled-back-instance-ids': result.rollback?.rolledBack ?? []
  }
}
