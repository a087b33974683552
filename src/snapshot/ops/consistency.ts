/**
 * Makes the volume's contents consistent for the moment of CreateSnapshot, through SSM on the
 * host: `sync` flushes; `freeze` holds writes until CreateSnapshot returns (a snapshot is
 * point-in-time at that call, so the freeze lasts seconds), with a watchdog on the host that
 * thaws by itself if the thaw never comes (the runner died, SSM became unreachable).
 */
import type { SSMClient } from '@aws-sdk/client-ssm'
import { errorMessage } from '../../errors.js'
import type { Runtime } from '../../runtime.js'
import { shellQuote } from '../../shell.js'
import { runOnHost } from '../../ssm/run-on-host.js'
import type { Consistency, ConsistencyMode } from '../types.js'

export const DEFAULT_WATCHDOG_SECONDS = 60
const SYNC_TIMEOUT_MS = 120_000
const FREEZE_TIMEOUT_MS = 30_000

export function syncScript(mountPoint?: string): string[] {
  if (!mountPoint) return ['set -eu', 'sync', 'echo synced']
  const mp = shellQuote(mountPoint)
  return ['set -eu', `sync -f ${mp} 2>/dev/null || sync`, `echo synced ${mp}`]
}

/** Where the watchdog's pid is kept, so the thaw can stop it. */
const pidFile = (mountPoint: string): string =>
  `/run/ebs-autoscale-freeze${mountPoint.replace(/[^A-Za-z0-9]/g, '_')}.pid`

export function freezeScript(mountPoint: string, watchdogSeconds: number): string[] {
  const mp = shellQuote(mountPoint)
  const pid = shellQuote(pidFile(mountPoint))
  return [
    'set -eu',
    `mountpoint -q ${mp} || { echo ${mp} is not a mount point >&2; exit 2; }`,
    `sync -f ${mp}`,
    // The watchdog starts before the freeze: there is never a frozen filesystem without one.
    `setsid nohup sh -c 'sleep "$1"; fsfreeze -u "$2" 2>/dev/null && logger -t ebs-autoscale "watchdog thawed $2"' watchdog ${watchdogSeconds} ${mp} </dev/null >/dev/null 2>&1 &`,
    `echo $! > ${pid}`,
    `fsfreeze -f ${mp}`,
    `echo frozen ${mp}, thawed by itself within ${watchdogSeconds}s`
  ]
}

export function thawScript(mountPoint: string): string[] {
  const mp = shellQuote(mountPoint)
  const pid = shellQuote(pidFile(mountPoint))
  return [
    'set -u',
    `fsfreeze -u ${mp}; thawed=$?`,
    `if [ -f ${pid} ]; then kill "$(cat ${pid})" 2>/dev/null; rm -f ${pid}; fi`,
    `if [ $thawed -eq 0 ]; then echo thawed ${mp}; else echo could not thaw ${mp}, already thawed by the watchdog? >&2; exit $thawed; fi`
  ]
}

export interface ConsistencyOptions {
  dryRun?: boolean
  /**
   * consistency: sync was already done on the host, as the last step of the command that just
   * succeeded there (the deploy's primary): no separate command is sent.
   */
  flushedOnHost?: boolean
}

/**
 * Runs `takeSnapshot` inside the consistency the options ask for, on `instanceId`; returns
 * its result and what was actually done. A failed thaw is a warning: the watchdog thaws.
 */
export async function withConsistency<T>(
  ssm: SSMClient | undefined,
  instanceId: string | undefined,
  consistency: Consistency,
  takeSnapshot: () => Promise<T>,
  options: ConsistencyOptions,
  runtime: Runtime
): Promise<{ value: T; applied: ConsistencyMode }> {
  const { log } = runtime
  if (consistency.mode === 'none') return { value: await takeSnapshot(), applied: 'none' }
  if (!instanceId) {
    log.info(
      `The volume is not attached to an instance: nothing writes to it, so no ${consistency.mode} is needed.`
    )
    return { value: await takeSnapshot(), applied: 'none' }
  }
  if (!ssm) throw new Error(`consistency ${consistency.mode} needs an SSM client`)
  const target = consistency.mountPoint ?? 'every filesystem'
  if (options.dryRun) {
    log.info(`Dry run: would ${consistency.mode} ${target} on ${instanceId} through SSM.`)
    return { value: await takeSnapshot(), applied: consistency.mode }
  }

  if (consistency.mode === 'sync' && options.flushedOnHost) {
    log.info(`Flushed ${target} on ${instanceId} as the last step of its command (sync).`)
    return { value: await takeSnapshot(), applied: 'sync' }
  }
  if (consistency.mode === 'sync') {
    await syncOnHost(ssm, instanceId, consistency.mountPoint, runtime)
    return { value: await takeSnapshot(), applied: 'sync' }
  }
  return {
    value: await whileFrozen(ssm, instanceId, consistency, takeSnapshot, runtime),
    applied: 'freeze'
  }
}

/** Flushes the mount point (or every filesystem) on the host with its own command. */
async function syncOnHost(
  ssm: SSMClient,
  instanceId: string,
  mountPoint: string | undefined,
  runtime: Runtime
): Promise<void> {
  const target = mountPoint ?? 'every filesystem'
  await runOnHost(
    ssm,
    instanceId,
    syncScript(mountPoint),
    {
      purpose: `sync ${target}`,
      timeoutMs: SYNC_TIMEOUT_MS
    },
    runtime
  )
  runtime.log.info(`Flushed ${target} on ${instanceId} (sync).`)
}

/** Freezes the mount point, runs `takeSnapshot`, and thaws it whatever happened. */
async function whileFrozen<T>(
  ssm: SSMClient,
  instanceId: string,
  consistency: Extract<Consistency, { mode: 'freeze' }>,
  takeSnapshot: () => Promise<T>,
  runtime: Runtime
): Promise<T> {
  const { mountPoint } = consistency
  const watchdogSeconds = consistency.watchdogSeconds ?? DEFAULT_WATCHDOG_SECONDS
  await runOnHost(
    ssm,
    instanceId,
    freezeScript(mountPoint, watchdogSeconds),
    {
      purpose: `freeze ${mountPoint}`,
      timeoutMs: FREEZE_TIMEOUT_MS
    },
    runtime
  )
  runtime.log.info(`Froze ${mountPoint} on ${instanceId} (watchdog: ${watchdogSeconds}s).`)
  try {
    return await takeSnapshot()
  } finally {
    await thaw(ssm, instanceId, mountPoint, watchdogSeconds, runtime)
  }
}

/** A failed thaw is a warning, not an error: the watchdog on the host thaws by itself. */
async function thaw(
  ssm: SSMClient,
  instanceId: string,
  mountPoint: string,
  watchdogSeconds: number,
  runtime: Runtime
): Promise<void> {
  const { log } = runtime
  try {
    await runOnHost(
      ssm,
      instanceId,
      thawScript(mountPoint),
      {
        purpose: `thaw ${mountPoint}`,
        timeoutMs: FREEZE_TIMEOUT_MS
      },
      // Thawed even when the run is cancelled: a frozen code volume blocks the application.
      { clock: runtime.clock, signal: new AbortController().signal }
    )
    log.info(`Thawed ${mountPoint} on ${instanceId}.`)
  } catch (err) {
    log.warning(
      `Could not thaw ${mountPoint} on ${instanceId}: ${errorMessage(err)}. The watchdog on the host thaws it within ${watchdogSeconds}s of the freeze.`,
      { title: 'Thaw failed' }
    )
  }
}
