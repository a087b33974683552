/**
 * SSM Run Command calls the command tracker makes: send in batches of at most 50 instances, read the
 * status of every command with one ListCommands call per poll (not one call per host), and
 * read each finished command's per-host results a page of 50 at a time.
 */
import { type HostScript, scriptToSend } from './host-script.js'
import {
  GetCommandInvocationCommand,
  ListCommandsCommand,
  SendCommandCommand,
  paginateListCommandInvocations,
  type Command,
  type CommandInvocation,
  type SSMClient
} from '@aws-sdk/client-ssm'
import { aws, awsErrorCode, wrapAwsError } from '../errors.js'
import { chunk } from '../collections.js'
import { TERMINAL_COMMAND_STATUSES } from '../ssm/status.js'
import {
  INVOCATION_LIMITS,
  LISTING_LIMITS,
  outputCutNote,
  readHostOutput,
  stderrBeforeTail,
  type OutputLimits
} from './output.js'
import type { HostResult, HostStatus } from './types.js'

/** SendCommand takes at most 50 instance ids. */
export const IDS_PER_COMMAND = 50

export interface SendOptions {
  document: string
  script: HostScript
  hostTimeoutMs: number
  /** How long SSM may take to deliver the command to a host (SendCommand TimeoutSeconds). */
  deliveryTimeoutMs: number
  comment: string
  output?: OutputOptions
}

export interface OutputOptions {
  s3Bucket?: string
  s3KeyPrefix?: string
  cloudWatchLogGroup?: string
}

export async function sendCommands(
  ssm: SSMClient,
  instanceIds: readonly string[],
  options: SendOptions,
  onSent: (commandId: string, instanceIds: string[], requestedAt?: Date) => void
): Promise<void> {
  const executionTimeout = String(Math.max(1, Math.ceil(options.hostTimeoutMs / 1000)))
  const deliverySeconds = Math.min(
    2_592_000,
    Math.max(30, Math.ceil(options.deliveryTimeoutMs / 1000))
  )
  for (const ids of chunk(instanceIds, IDS_PER_COMMAND)) {
    const commands = await scriptToSend(options.script)
    const out = await aws(
      'SendCommand',
      ssm.send(
        new SendCommandCommand({
          DocumentName: options.document,
          InstanceIds: ids,
          Parameters: { commands: [...commands], executionTimeout: [executionTimeout] },
          TimeoutSeconds: deliverySeconds,
          // The waves are ours: SSM runs the whole batch at once and never stops it early.
          MaxConcurrency: String(ids.length),
          MaxErrors: String(ids.length),
          Comment: options.comment.slice(0, 100),
          ...(options.output?.s3Bucket
            ? {
                OutputS3BucketName: options.output.s3Bucket,
                ...(options.output.s3KeyPrefix
                  ? { OutputS3KeyPrefix: options.output.s3KeyPrefix }
                  : {})
              }
            : {}),
          ...(options.output?.cloudWatchLogGroup
            ? {
                CloudWatchOutputConfig: {
                  CloudWatchLogGroupName: options.output.cloudWatchLogGroup,
                  CloudWatchOutputEnabled: true
                }
              }
            : {})
        })
      )
    )
    const commandId = out.Command?.CommandId
    if (!commandId)
      throw wrapAwsError('SendCommand', new Error('the response carried no CommandId'))
    onSent(commandId, ids, out.Command?.RequestedDateTime)
  }
}

/**
 * The current state of the given commands. One call when there is one command; otherwise one
 * ListCommands listing (50 commands a page) of what was sent since `since`, and a direct
 * look-up only for a command the listing does not show yet. Commands not visible yet are
 * simply absent from the result (SSM is eventually consistent right after SendCommand).
 */
export async function commandStates(
  ssm: SSMClient,
  commandIds: readonly string[],
  since: Date
): Promise<Map<string, Command>> {
  const found = new Map<string, Command>()
  const wanted = new Set(commandIds)
  if (commandIds.length > 1) {
    let token: string | undefined
    do {
      const page = await aws(
        'ListCommands',
        ssm.send(
          new ListCommandsCommand({
            Filters: [{ key: 'InvokedAfter', value: since.toISOString() }],
            MaxResults: 50,
            NextToken: token
          })
        )
      )
      for (const c of page.Commands ?? [])
        if (c.CommandId && wanted.has(c.CommandId)) found.set(c.CommandId, c)
      token = found.size < wanted.size ? page.NextToken : undefined
    } while (token)
  }
  for (const id of commandIds) {
    if (found.has(id)) continue
    try {
      const out = await ssm.send(new ListCommandsCommand({ CommandId: id }))
      const c = out.Commands?.[0]
      if (c) found.set(id, c)
    } catch (err) {
      if (awsErrorCode(err) !== 'InvalidCommandId') throw wrapAwsError('ListCommands', err)
    }
  }
  return found
}

const DETAILED = new Set<HostStatus>([
  'DeliveryTimedOut',
  'ExecutionTimedOut',
  'Undeliverable',
  'InvalidPlatform',
  'AccessDenied'
])

/**
 * SSM's status, refined by StatusDetails where it says more; unfinished means cancelled. SSM's
 * "Terminated" (stopped at the command's MaxErrors) is a cancellation: our Terminated means the
 * instance itself is gone, which only an EC2 state check tells.
 */
export function hostStatus(status: string | undefined, details: string | undefined): HostStatus {
  if (details === 'Terminated') return 'Cancelled'
  if (details && DETAILED.has(details as HostStatus)) return details as HostStatus
  if (status && TERMINAL_COMMAND_STATUSES.has(status)) return status as HostStatus
  return 'Cancelled'
}

const ERROR_MARKER = /\n?-{5,}ERROR-{5,}\n?/

/** The last lines of some output: what a user needs to see why a host failed. */
export function tail(text: string | undefined, lines = 20, chars = 4000): string | undefined {
  if (!text) return undefined
  const trimmed = text.replace(/\s+$/, '')
  if (!trimmed) return undefined
  return trimmed.split('\n').slice(-lines).join('\n').slice(-chars)
}

export function resultFromInvocation(inv: CommandInvocation, wave: number): HostResult {
  const plugin = inv.CommandPlugins?.[0]
  const status = hostStatus(inv.Status, inv.StatusDetails)
  const [stdout, stderr] = (plugin?.Output ?? '').split(ERROR_MARKER)
  const started = plugin?.ResponseStartDateTime ?? inv.RequestedDateTime
  const finished = plugin?.ResponseFinishDateTime
  const result: HostResult = {
    instanceId: inv.InstanceId ?? '',
    status,
    wave,
    commandId: inv.CommandId ?? ''
  }
  if (plugin?.ResponseCode !== undefined && plugin.ResponseCode >= 0)
    result.exitCode = plugin.ResponseCode
  if (started && finished) result.durationMs = Math.max(0, finished.getTime() - started.getTime())
  addOutput(result, stdout ?? '', stderr ?? '', LISTING_LIMITS)
  const url = plugin?.StandardOutputUrl || inv.StandardOutputUrl
  if (url) result.outputUrl = url
  addCloudWatch(result, inv.CloudWatchOutputConfig)
  if (status !== 'Success' && inv.StatusDetails && inv.StatusDetails !== status)
    result.reason = inv.StatusDetails
  return result
}

/**
 * A host's output as SSM returned it: the last lines of each stream, and the script's block of
 * the output's last lines (kept apart from stderr) with where the whole log is and whether SSM
 * cut anything. A fuller copy (GetCommandInvocation) replaces what a listing gave.
 */
function addOutput(result: HostResult, stdout: string, stderr: string, limits: OutputLimits): void {
  const read = readHostOutput(stdout, stderr, limits)
  const out = tail(stdout)
  const err = tail(read.tail === undefined ? stderr : stderrBeforeTail(stderr))
  if (out) result.stdoutTail = out
  if (err) result.stderrTail = err
  else if (read.tail !== undefined) delete result.stderrTail
  const lastLines = read.tail?.replace(/\s+$/, '')
  if (lastLines) result.outputTail = lastLines
  if (read.logPath) result.logPath = read.logPath
  const note = outputCutNote(read)
  if (note) result.outputNote = note
  else delete result.outputNote
}

/** The stream SSM writes the commands' stdout to, when output goes to CloudWatch Logs. */
function addCloudWatch(
  result: HostResult,
  config: { CloudWatchLogGroupName?: string; CloudWatchOutputEnabled?: boolean } | undefined
): void {
  if (!config?.CloudWatchOutputEnabled || !config.CloudWatchLogGroupName || !result.commandId)
    return
  result.cloudWatchOutput = `log group ${config.CloudWatchLogGroupName}, stream ${result.commandId}/${result.instanceId}/aws-runShellScript/stdout`
}

/**
 * Every host's result for a finished command, 50 hosts a call. With `finishedOnly`, the
 * command may still run: only the hosts that already finished are returned.
 */
export async function commandResults(
  ssm: SSMClient,
  commandId: string,
  instanceIds: readonly string[],
  wave: number,
  finishedOnly = false
): Promise<HostResult[]> {
  const byId = new Map<string, HostResult>()
  try {
    for await (const page of paginateListCommandInvocations(
      { client: ssm, pageSize: 50 },
      { CommandId: commandId, Details: true }
    )) {
      for (const inv of page.CommandInvocations ?? []) {
        if (finishedOnly && !TERMINAL_COMMAND_STATUSES.has(inv.Status ?? '')) continue
        if (inv.InstanceId) byId.set(inv.InstanceId, resultFromInvocation(inv, wave))
      }
    }
  } catch (err) {
    throw wrapAwsError('ListCommandInvocations', err)
  }
  if (finishedOnly) return instanceIds.flatMap((id) => byId.get(id) ?? [])
  return instanceIds.map(
    (id) =>
      byId.get(id) ?? {
        instanceId: id,
        status: 'Undeliverable',
        wave,
        commandId,
        reason: 'SSM reported no invocation for this host'
      }
  )
}

/**
 * Replaces a failed host's output with the fuller copy GetCommandInvocation keeps (the first
 * 24,000 characters of stdout and 8,000 of stderr, against 2,500 of both in the listing).
 */
export async function addFullOutput(ssm: SSMClient, result: HostResult): Promise<void> {
  if (!result.commandId) return
  try {
    const inv = await ssm.send(
      new GetCommandInvocationCommand({
        CommandId: result.commandId,
        InstanceId: result.instanceId
      })
    )
    addOutput(
      result,
      inv.StandardOutputContent ?? '',
      inv.StandardErrorContent ?? '',
      INVOCATION_LIMITS
    )
    if (inv.StandardOutputUrl && !result.outputUrl) result.outputUrl = inv.StandardOutputUrl
    if (!result.cloudWatchOutput) addCloudWatch(result, inv.CloudWatchOutputConfig)
  } catch (err) {
    // The listing's shorter output is still there; a missing copy is not worth failing over.
    if (awsErrorCode(err) !== 'InvocationDoesNotExist')
      throw wrapAwsError('GetCommandInvocation', err)
  }
}
