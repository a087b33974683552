/**
 * Catch-up: instances that appeared while the deploy ran were launched from the template as
 * it was, so they booted with the old code. Find them (still pending ones too), wait until
 * their agent is online, give them the same rollout, and look again, until a look finds none.
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { SSMClient } from '@aws-sdk/client-ssm'
import type { Host } from '../hosts/host.js'
import { resolveHosts, type HostQuery } from '../hosts/resolve.js'
import { formatDuration } from '../duration.js'
import type { Log } from '../log.js'
import { poll, PollAbortedError, PollTimeoutError } from '../poll.js'
import { checkAgents } from '../rollout/agents.js'
import type { RolloutResult } from '../rollout/types.js'
import type { Runtime } from '../runtime.js'
import { type NewCode, oldCodeJudge } from './old-code.js'

export interface CatchUpOptions {
  query: HostQuery
  /** Every instance the deploy already handled. */
  known: ReadonlySet<string>
  /**
   * The new snapshot: an instance launched from a version whose code device maps it has the
   * new code (old-code.ts). Undefined when nothing was published: every new instance has old code.
   */
  code: NewCode | undefined
  /** How long a new instance may take to run with its SSM agent online. */
  readyTimeoutMs: number
  /** Looks after the first, at most (a group still scaling out keeps adding instances). */
  maxRounds: number
  /** The same rollout the fleet got, for these instances. */
  rollout: (instanceIds: string[]) => Promise<RolloutResult>
}

export interface CatchUpResult {
  /** Instances that got the rollout and succeeded. */
  caughtUp: string[]
  /** New instances that booted from the new version: nothing to do. */
  upToDate: string[]
  /** New instances that could not be caught up, and why. */
  failed: Array<{ instanceId: string; reason: string }>
  rounds: number
  rollouts: RolloutResult[]
  /** The run was cancelled: catch-up stopped, and `failed` names what it left. */
  cancelled: boolean
}

/** Auto Scaling lifecycle states of members that exist or are about to. */
const MEMBER_STATES = ['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService']

export async function catchUp(
  clients: { ec2: EC2Client; autoscaling: AutoScalingClient; ssm: SSMClient },
  options: CatchUpOptions,
  runtime: Runtime
): Promise<CatchUpResult> {
  const { log, signal } = runtime
  const known = new Set(options.known)
  const result = emptyResult()
  const query = memberQuery(options.query)
  const hasOldCode = oldCodeJudge(clients.ec2, options.code)

  for (let round = 1; round <= options.maxRounds + 1 && !signal.aborted; round++) {
    result.rounds = round
    const ids = await lookForOldCode(clients, query, known, hasOldCode, result, log)
    if (ids.length === 0) {
      log.info(`Catch-up look ${round}: no instance launched with old code.`)
      return result
    }
    if (round > options.maxRounds) {
      leave(result, ids, `still appearing after ${options.maxRounds} catch-up round(s)`)
      return result
    }
    log.info(
      `Catch-up look ${round}: ${ids.length} instance(s) launched with old code: ${ids.join(' ')}`
    )
    const { ready, notReady } = await waitUntilReady(
      clients.ssm,
      ids,
      options.readyTimeoutMs,
      runtime
    )
    if (signal.aborted) {
      leave(result, ids, 'the deploy was cancelled before this instance was deployed to')
      break
    }
    failNotReady(result, notReady, options.readyTimeoutMs, log)
    if (ready.length) record(result, await options.rollout(ready))
  }
  if (signal.aborted) {
    result.cancelled = true
    log.warning('Catch-up stopped: the deploy was cancelled.')
  }
  return result
}

/**
 * One look and no rollout, for a deploy that will not catch up (its publish failed): the
 * instances launched meanwhile with old code, each left with `reason`.
 */
export async function leftOnOldCode(
  clients: { ec2: EC2Client; autoscaling: AutoScalingClient },
  options: Pick<CatchUpOptions, 'query' | 'known' | 'code'>,
  reason: string,
  log: Log
): Promise<CatchUpResult> {
  const result = { ...emptyResult(), rounds: 1 }
  const hasOldCode = oldCodeJudge(clients.ec2, options.code)
  const known = new Set(options.known)
  const ids = await lookForOldCode(
    clients,
    memberQuery(options.query),
    known,
    hasOldCode,
    result,
    log
  )
  leave(result, ids, reason)
  return result
}

function emptyResult(): CatchUpResult {
  return { caughtUp: [], upToDate: [], failed: [], rounds: 0, rollouts: [], cancelled: false }
}

/** The groups' members that exist or are about to, pending ones too. */
function memberQuery(query: HostQuery): HostQuery {
  return { ...query, states: ['pending', 'running'], asgLifecycleStates: MEMBER_STATES }
}

/**
 * One look at the group: the instances not seen before become known; those launched from a
 * version that boots the new snapshot are recorded up to date. Returns the ids of those launched with old code.
 */
async function lookForOldCode(
  clients: { ec2: EC2Client; autoscaling: AutoScalingClient },
  query: HostQuery,
  known: Set<string>,
  hasOldCode: (host: Host) => Promise<boolean>,
  result: CatchUpResult,
  log: Log
): Promise<string[]> {
  const { hosts } = await resolveHosts(clients, query)
  const fresh = hosts.filter((h) => !known.has(h.instanceId))
  for (const h of fresh) known.add(h.instanceId)
  const old = await Promise.all(fresh.map(hasOldCode))
  const stale = fresh.filter((_, i) => old[i])
  const current = fresh.filter((_, i) => !old[i]).map((h) => h.instanceId)
  result.upToDate.push(...current)
  if (current.length) log.info(`Launched from the new version already: ${current.join(' ')}`)
  return stale.map((h) => h.instanceId)
}

/** Instances whose agent never came online: left on old code, each reported. */
function failNotReady(
  result: CatchUpResult,
  notReady: readonly string[],
  readyTimeoutMs: number,
  log: Log
): void {
  for (const id of notReady) {
    result.failed.push({
      instanceId: id,
      reason: `its SSM agent was not online within ${formatDuration(readyTimeoutMs)}`
    })
    log.error(`${id} never came online: it may run old code. Terminate it or deploy again.`, {
      title: 'Instance not caught up'
    })
  }
}

/** A catch-up rollout's hosts: caught up, or failed with the rollout's reason. */
function record(result: CatchUpResult, rolled: RolloutResult): void {
  result.rollouts.push(rolled)
  for (const r of rolled.results) {
    if (r.status === 'Success') result.caughtUp.push(r.instanceId)
    // Gone, so it runs no code at all; the next look finds its replacement, if any.
    else if (r.status === 'Terminated') continue
    else
      result.failed.push({
        instanceId: r.instanceId,
        reason: `catch-up rollout: ${r.status}${r.reason ? ` (${r.reason})` : ''}`
      })
  }
}

/** Instances catch-up had to leave on old code. */
function leave(result: CatchUpResult, ids: readonly string[], reason: string): void {
  for (const instanceId of ids) result.failed.push({ instanceId, reason })
}

/** Waits (bounded) until the instances' agents are Online; reports those that never were. */
async function waitUntilReady(
  ssm: SSMClient,
  ids: string[],
  timeoutMs: number,
  runtime: Runtime
): Promise<{ ready: string[]; notReady: string[] }> {
  let last = {
    online: [] as string[],
    offline: ids.map((instanceId) => ({ instanceId, reason: '' }))
  }
  try {
    await poll({
      label: `${ids.length} new instance(s) to come online`,
      timeoutMs,
      clock: runtime.clock,
      signal: runtime.signal,
      backoff: { initialMs: 1000, maxMs: 5000 },
      check: async () => {
        last = await checkAgents(ssm, ids)
        return last.offline.length === 0
          ? { done: true, value: undefined }
          : { done: false, status: `${last.online.length}/${ids.length} online` }
      }
    })
  } catch (err) {
    // Not online in time, or cancelled: the caller reports which.
    if (!(err instanceof PollTimeoutError || err instanceof PollAbortedError)) throw err
  }
  return { ready: last.online, notReady: last.offline.map((o) => o.instanceId) }
}
