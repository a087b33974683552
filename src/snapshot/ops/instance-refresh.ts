/**
 * Instance refresh of one group: is one running, start one, follow one to its end. Fails
 * clearly when one is already running; followed with progress lines. The refresh phase
 * (../refresh-targets.ts) runs these for every group that picks up the new version.
 */
import {
  type AutoScalingClient,
  DescribeInstanceRefreshesCommand,
  type InstanceRefresh,
  StartInstanceRefreshCommand
} from '@aws-sdk/client-auto-scaling'
import { ActionError, aws, awsErrorCode, wrapAwsError } from '../../errors.js'
import { formatDuration } from '../../duration.js'
import { poll, PollTimeoutError } from '../../poll.js'
import type { Runtime } from '../../runtime.js'
import type { RefreshResult } from '../types.js'

const ACTIVE = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking'])
const SUCCEEDED = new Set(['Successful'])

/** Refreshes take minutes: look every 5 to 15 s. */
const REFRESH_BACKOFF = { initialMs: 5_000, maxMs: 15_000, factor: 1.5, jitter: 0.2 }

export class RefreshInProgressError extends ActionError {
  override name = 'RefreshInProgressError'
  constructor(groupName: string, refreshId: string | undefined, status: string | undefined) {
    super(
      `An instance refresh is already ${status ?? 'in progress'} on Auto Scaling group ${groupName}` +
        (refreshId ? ` (${refreshId})` : '') +
        `. Wait for it to end, or cancel it (aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${groupName}), then run again.`
    )
  }
}

/** The group's running refresh, if any. */
export async function activeInstanceRefresh(
  autoscaling: AutoScalingClient,
  groupName: string
): Promise<InstanceRefresh | undefined> {
  const out = await aws(
    'DescribeInstanceRefreshes',
    autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: groupName, MaxRecords: 10 })
    )
  )
  return out.InstanceRefreshes?.find((r) => ACTIVE.has(r.Status ?? ''))
}

export async function startInstanceRefresh(
  autoscaling: AutoScalingClient,
  groupName: string,
  options: { minHealthyPercentage: number }
): Promise<string> {
  try {
    const out = await autoscaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: groupName,
        Strategy: 'Rolling',
        Preferences: { MinHealthyPercentage: options.minHealthyPercentage }
      })
    )
    return out.InstanceRefreshId ?? ''
  } catch (err) {
    const code = awsErrorCode(err) ?? ''
    if (code.startsWith('InstanceRefreshInProgress')) {
      const active = await activeInstanceRefresh(autoscaling, groupName).catch(() => undefined)
      throw new RefreshInProgressError(groupName, active?.InstanceRefreshId, active?.Status)
    }
    throw wrapAwsError('StartInstanceRefresh', err)
  }
}

export async function waitForInstanceRefresh(
  autoscaling: AutoScalingClient,
  groupName: string,
  refreshId: string,
  options: { timeoutMs: number },
  runtime: Runtime
): Promise<RefreshResult> {
  const { log, clock, signal } = runtime
  let last: RefreshResult = { groupName, refreshId, status: 'Pending' }
  let lastLine = ''
  try {
    const final = await poll({
      label: `instance refresh ${refreshId} of ${groupName}`,
      timeoutMs: options.timeoutMs,
      backoff: REFRESH_BACKOFF,
      clock,
      signal,
      check: async () => {
        const out = await aws(
          'DescribeInstanceRefreshes',
          autoscaling.send(
            new DescribeInstanceRefreshesCommand({
              AutoScalingGroupName: groupName,
              InstanceRefreshIds: [refreshId]
            })
          )
        )
        const r = out.InstanceRefreshes?.[0]
        last = {
          groupName,
          refreshId,
          status: r?.Status ?? 'Pending',
          ...(r?.PercentageComplete !== undefined
            ? { percentageComplete: r.PercentageComplete }
            : {}),
          ...(r?.StatusReason ? { statusReason: r.StatusReason } : {})
        }
        const line = `Instance refresh of ${groupName}: ${last.status}, ${last.percentageComplete ?? 0}% complete, ${r?.InstancesToUpdate ?? '?'} instance(s) to update`
        if (line !== lastLine) log.info((lastLine = line))
        return ACTIVE.has(last.status)
          ? { done: false, status: `${last.status} ${last.percentageComplete ?? 0}%` }
          : { done: true, value: last }
      }
    })
    if (!SUCCEEDED.has(final.status)) {
      throw new ActionError(
        `Instance refresh ${refreshId} of ${groupName} ended ${final.status}` +
          (final.statusReason ? `: ${final.statusReason}` : '') +
          '. New instances still boot from the new snapshot; the old ones were not all replaced.'
      )
    }
    return final
  } catch (err) {
    if (!(err instanceof PollTimeoutError)) throw err
    throw new ActionError(
      `Instance refresh ${refreshId} of ${groupName} did not end within ${formatDuration(options.timeoutMs)}: ${last.status} at ${last.percentageComplete ?? 0}%. It keeps going in AWS.`
    )
  }
}
