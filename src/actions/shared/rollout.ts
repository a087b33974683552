/** The rollout inputs, shared by the rollout action and deploy (which takes all of them). */
import { InputError } from '../../errors.js'
import { INSTANCE_ID } from '../../hosts/host.js'
import { type Provenance, shortSha } from '../../model/provenance.js'
import type { Inputs } from './inputs.js'
import type { RolloutOptions } from '../../rollout/run.js'
import { isFailure, type RolloutResult } from '../../rollout/types.js'
import { buildScript } from '../../rollout/script.js'
import type { RolloutFlowOptions } from '../../flows/rollout.js'
import type { HostSelection } from '../../hosts/find.js'
import { commitEnv } from './commit.js'
import { readDevice } from './device.js'
import { readHostQuery } from './hosts.js'
import { readLaunchTemplate } from './launch-template.js'
import { readRollbackSettings } from './rollback.js'
import { readTrafficSettings } from './traffic.js'

/** Everything but the targets, the clock and the signal. */
export type RolloutSettings = Omit<RolloutOptions, 'instanceIds' | 'clock' | 'signal' | 'backoff'>

/** executionTimeout of AWS-RunShellScript: 1 s to 48 h. */
const MAX_HOST_TIMEOUT_MS = 172_800_000

export function readRolloutSettings(inputs: Inputs, ctx: Provenance): RolloutSettings {
  const commands = inputs.text('commands')
  const dryRun = inputs.boolean('dry-run', false)
  if (commands.trim() === '') {
    throw new InputError(
      'commands',
      'is empty. Expected the deploy script to run on every host (multi-line).'
    )
  }
  const document = readDocument(inputs)
  const env = inputs.env('env')
  const workingDirectory = inputs.optional('working-directory')
  const runAs = inputs.user('run-as')
  const run = ['run', ctx.runId, ctx.runAttempt].filter(Boolean).join('-')
  const scriptOptions = {
    env: [...commitEnv(ctx), ...env],
    ...(workingDirectory ? { workingDirectory } : {}),
    ...(runAs ? { runAs } : {})
  }
  const runOnce = inputs.text('run-once')
  const hostTimeoutMs = inputs.duration('timeout', '10m', {
    minMs: 1000,
    maxMs: MAX_HOST_TIMEOUT_MS
  })
  const deadlineMs = inputs.duration('deadline', '60m', { minMs: 1000 })
  if (deadlineMs < hostTimeoutMs) {
    throw new InputError(
      'deadline',
      `${JSON.stringify(inputs.raw('deadline') || '60m')} is shorter than timeout (${inputs.raw('timeout') || '10m'}). Expected a deadline for the whole rollout at least as long as one host's timeout.`
    )
  }
  const s3Bucket = inputs.optional('output-s3-bucket')
  const s3KeyPrefix = inputs.optional('output-s3-key-prefix')
  const cloudWatchLogGroup = inputs.optional('cloudwatch-log-group')
  return {
    script: buildScript({ commands, ...scriptOptions, logName: `${run}-commands` }),
    ...(runOnce.trim()
      ? {
          runOnceScript: buildScript({
            commands: runOnce,
            ...scriptOptions,
            logName: `${run}-run-once`
          })
        }
      : {}),
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

/** The SSM document; a Windows one is refused: the script is POSIX shell for Linux. */
function readDocument(inputs: Inputs): string {
  const document = inputs.string('document', 'AWS-RunShellScript')
  if (/powershell|windows/i.test(document)) {
    throw new InputError(
      'document',
      `${JSON.stringify(document)} is a Windows document, and the script this action sends is POSIX shell for Linux hosts. Expected AWS-RunShellScript, or a Linux document that takes commands and executionTimeout like it.`
    )
  }
  return document
}

/** The rollout action's inputs, every one checked before anything is read or changed. */
export function readRolloutFlowOptions(inputs: Inputs, ctx: Provenance): RolloutFlowOptions {
  const hosts = readHostSelection(inputs)
  const rollout = readRolloutSettings(inputs, ctx)
  const traffic = readTrafficSettings(inputs)
  const rollback = readRollbackSettings(inputs, ctx)
  const device = readDevice(inputs)
  const launchTemplate = readLaunchTemplate(inputs)
  if (launchTemplate && !rollback) {
    throw new InputError(
      'launch-template',
      `${JSON.stringify(launchTemplate)} is set without rollback-commands. Expected rollback-commands with it: the template only tells a rollback where it returns to.`
    )
  }
  return {
    hosts,
    rollout,
    traffic,
    ...(rollback ? { rollback } : {}),
    ...(launchTemplate ? { previousFrom: { launchTemplate, device } } : {})
  }
}

/** `instance-ids`, or `tags` and/or `asg-name`: one way to choose the hosts. */
function readHostSelection(inputs: Inputs): HostSelection {
  const instanceIds = readInstanceIds(inputs)
  const query = readHostQuery(inputs, { requireSelector: false })
  if (instanceIds.length && (query.tags.size || query.asgNames?.length)) {
    throw new InputError(
      'instance-ids',
      'is set together with tags or asg-name. Expected one way to choose the hosts: instance-ids, or tags and/or asg-name.'
    )
  }
  if (!instanceIds.length && !query.tags.size && !query.asgNames?.length) {
    throw new InputError(
      'instance-ids',
      "is empty and neither tags nor asg-name is set. Expected the hosts: instance-ids (e.g. resolve-hosts' instance-ids output), or tags and/or asg-name."
    )
  }
  return instanceIds.length ? { instanceIds } : { query }
}

/** `instance-ids` as given (resolve-hosts' JSON output or a plain list), the first the primary. */
export function readInstanceIds(inputs: Inputs): string[] {
  const ids = inputs.list('instance-ids')
  const bad = ids.find((id) => !INSTANCE_ID.test(id))
  if (bad !== undefined) {
    throw new InputError(
      'instance-ids',
      `${JSON.stringify(bad)} is not an instance id. Expected ids like "i-0123456789abcdef0".`
    )
  }
  return ids
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
