/**
 * Runs a short script on one host through SSM Run Command and waits for its result: the
 * helper for one-off steps such as flushing or freezing a filesystem before a snapshot.
 * Fleet rollouts use rollout/ instead (waves, fleet-wide limits, batched polling).
 */
import {
  GetCommandInvocationCommand,
  SendCommandCommand,
  type SSMClient
} from '@aws-sdk/client-ssm'
import { ActionError, aws, awsErrorCode, wrapAwsError } from '../errors.js'
import { poll, type PollStep } from '../poll.js'
import type { Runtime } from '../runtime.js'
import { TERMINAL_COMMAND_STATUSES } from './status.js'

export interface HostCommandResult {
  commandId: string
  status: string
  exitCode: number
  stdout: string
  stderr: string
}

export async function runOnHost(
  ssm: SSMClient,
  instanceId: string,
  script: readonly string[],
  options: {
    /** For messages: "sync the code volume". */
    purpose: string
    timeoutMs: number
    document?: string
    comment?: string
  },
  runtime: Pick<Runtime, 'clock' | 'signal'>
): Promise<HostCommandResult> {
  const timeoutSeconds = Math.max(1, Math.ceil(options.timeoutMs / 1000))
  const sent = await aws(
    'SendCommand',
    ssm.send(
      new SendCommandCommand({
        DocumentName: options.document ?? 'AWS-RunShellScript',
        InstanceIds: [instanceId],
        Parameters: { commands: [...script], executionTimeout: [String(timeoutSeconds)] },
        TimeoutSeconds: Math.max(30, timeoutSeconds),
        Comment: (options.comment ?? options.purpose).slice(0, 100)
      })
    )
  )
  const commandId = sent.Command?.CommandId ?? ''
  const result = await poll({
    label: `${options.purpose} on ${instanceId} (command ${commandId})`,
    timeoutMs: options.timeoutMs + 30_000,
    clock: runtime.clock,
    signal: runtime.signal,
    check: () => lookAtInvocation(ssm, commandId, instanceId)
  })
  if (result.status !== 'Success') {
    const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n')
    throw new ActionError(
      `Could not ${options.purpose} on ${instanceId}: command ${commandId} ended ${result.status} (exit code ${result.exitCode})` +
        (detail ? `:\n${detail}` : '')
    )
  }
  return result
}

/** One look at the host's invocation: not done yet, or its result once it ended. */
async function lookAtInvocation(
  ssm: SSMClient,
  commandId: string,
  instanceId: string
): Promise<PollStep<HostCommandResult>> {
  try {
    const inv = await ssm.send(
      new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId })
    )
    const status = inv.Status ?? 'Pending'
    if (!TERMINAL_COMMAND_STATUSES.has(status)) return { done: false, status }
    return {
      done: true,
      value: {
        commandId,
        status: inv.StatusDetails && inv.StatusDetails !== status ? inv.StatusDetails : status,
        exitCode: inv.ResponseCode ?? -1,
        stdout: inv.StandardOutputContent ?? '',
        stderr: inv.StandardErrorContent ?? ''
      }
    }
  } catch (err) {
    // Right after SendCommand the invocation may not be visible yet.
    if (awsErrorCode(err) === 'InvocationDoesNotExist') {
      return { done: false, status: 'not yet visible' }
    }
    throw wrapAwsError('GetCommandInvocation', err)
  }
}
