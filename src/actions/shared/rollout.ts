/** The rollout inputs, shared by the rollout action and deploy (which takes all of them). */
import { type Provenance, shortSha } from '../../model/provenance.js'
import type { Inputs } from './inputs.js'
import type { RolloutOptions } from '../../rollout/run.js'
import { isFailure, type RolloutResult } from '../../rollout/types.js'
import { buildScript } from '../../rollout/script.js'
import { checkDeadline, checkDocument } from '../../rollout/settings.js'
import { readScripts } from './scripts.js'

/** Everything but the targets, the clock and the signal. */
export type RolloutSettings = Omit<RolloutOptions, 'instanceIds' | 'clock' | 'signal' | 'backoff'>

/** executionTimeout of AWS-RunShellScript: 1 s to 48 h. */
const MAX_HOST_TIMEOUT_MS = 172_800_000

export function readRolloutSettings(inputs: Inputs, ctx: Provenance): RolloutSettings {
  const scripts = readScripts(inputs, ctx)
  const dryRun = inputs.boolean('dry-run', false)
  const document = checkDocument(inputs.string('document', 'AWS-RunShellScript'))
  const hostTimeoutMs = inputs.duration('timeout', '10m', {
    minMs: 1000,
    maxMs: MAX_HOST_TIMEOUT_MS
  })
  const deadlineMs = inputs.duration('deadline', '60m', { minMs: 1000 })
  checkDeadline(deadlineMs, hostTimeoutMs)
  const s3Bucket = inputs.optional('output-s3-bucket')
  const s3KeyPrefix = inputs.optional('output-s3-key-prefix')
  const cloudWatchLogGroup = inputs.optional('cloudwatch-log-group')
  return {
    script: buildScript(scripts.commands),
    ...(scripts.runOnce ? { runOnceScript: buildScript(scripts.runOnce) } : {}),
    document,
    canary: inputs.integer('canary', 1, { min: 0, max: 1000 }),
    maxConcurrency: inputs.countOrPercent('max-concurrency', '100%', 1),
    maxErrors: inputs.countOrPercent('max-errors', '0'),
    hostTimeoutMs,
    deadlineMs,
    skipOffline: inputs.boolean('skip-offline', false),
    dryRun,
    comment: `ebs-autoscale ${ctx.repository}@${shortSha(ctx.sha)} run ${ctx.runId}`.slice(0, 100),
    ...(s3Bucket || cloudWatchLogGroup
      ? {
          output: {
            ...(s3Bucket ? { s3Bucket } : {}),
            ...(s3KeyPrefix ? { s3KeyPrefix } : {}),
            ...(cloudWatchLogGroup ? { cloudWatchLogGroup } : {})
          }
        }
      : {})
  }
}

/** The rollout outputs (the rollout action's and deploy's). */
export function rolloutOutputs(result: RolloutResult): Record<string, string | object> {
  return {
    'command-ids': result.commands.map((c) => c.commandId),
    'succeeded-instance-ids': result.results
      .filter((r) => r.status === 'Success')
      .map((r) => r.instanceId),
    'failed-instance-ids': result.results.filter(isFailure).map((r) => r.instanceId),
    'skipped-instance-ids': result.results
      .filter((r) => r.status === 'Skipped')
      .map((r) => r.instanceId),
    'terminated-instance-ids': result.results
      .filter((r) => r.status === 'Terminated')
      .map((r) => r.instanceId),
    results: result.results.map((r) => ({
      instanceId: r.instanceId,
      status: r.status,
      ...(r.exitCode !== undefined ? { exitCode: r.exitCode } : {}),
      ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
      ...(r.reason ? { reason: r.reason } : {})
    })),
    'primary-instance-id': result.primaryInstanceId ?? ''
  }
}
