/**
 * The rollout: checks the agents, runs `run-once` on the primary, the canary, then the fleet
 * in waves, enforcing max-concurrency and max-errors across the whole fleet (SSM's own limits
 * apply per command of at most 50 hosts), within a deadline, and returns every host's result.
 */
import type { SSMClient } from '@aws-sdk/client-ssm'
import type { Clock } from '../clock.js'
import { ActionError, errorMessage } from '../errors.js'
import { type CountOrPercent, resolveCountOrPercent } from '../inputs.js'
import { formatDuration } from '../duration.js'
import type { Log } from '../log.js'
import type { Runtime } from '../runtime.js'
import { type Backoff, poll, PollAbortedError, PollTimeoutError } from '../poll.js'
import { checkAgents } from './agents.js'
import {
  addFullOutput,
  cancelCommand,
  commandResults,
  commandStates,
  type OutputOptions,
  sendCommands,
  TERMINAL_COMMAND_STATUSES
} from './commands.js'
import { describeWave, planWaves } from './plan.js'
import {
  type HostResult,
  isFailure,
  type OfflineHost,
  type RolloutResult,
  type SentCommand,
  type Wave
} from './types.js'

export interface RolloutOptions {
  /** The targets, primary first. */
  instanceIds: readonly string[]
  script: readonly string[]
  /** Runs on the primary alone before anything else; its failure stops the rollout. */
  runOnceScript?: readonly string[]
  document: string
  canary: number
  maxConcurrency: CountOrPercent
  maxErrors: CountOrPercent
  hostTimeoutMs: number
  deadlineMs: number
  skipOffline: boolean
  dryRun: boolean
  comment: string
  output?: OutputOptions
  /** Polling pace (tests and benchmarks); the default suits AWS. */
  backoff?: Partial<Backoff>
}

export interface RolloutHooks {
  /** Each command as soon as it is sent (the post step cancels these if the run is cancelled). */
  onCommandSent?(command: SentCommand): void
  /**
   * Once, as soon as the primary finished everything it runs (its commands, and run-once)
   * successfully, before other hosts go on: the deploy snapshots the primary from here.
   */
  onPrimaryDone?(result: HostResult): void
  /** After each wave, with its results. */
  onWaveDone?(wave: Wave, results: readonly HostResult[]): void
  /** Asked before any new host starts: a reason stops the rollout as max-errors does. */
  shouldStop?(): string | undefined
}

/** Full output is fetched for at most this many failed hosts; the rest keep the listing's. */
const FULL_OUTPUT_FETCHES = 20
/** Progress lines at most this often. */
const PROGRESS_EVERY_MS = 10_000

export async function runRollout(
  ssm: SSMClient,
  options: RolloutOptions,
  runtime: Runtime,
  hooks: RolloutHooks = {}
): Promise<RolloutResult> {
  const { clock, log } = runtime
  const started = clock.now()
  const deadline = started + options.deadlineMs
  if (options.instanceIds.length === 0) throw new ActionError('No hosts to roll out to.')

  const { online, offline } = await checkAgents(ssm, options.instanceIds)
  for (const o of offline) {
    const message = `${o.instanceId}: ${o.reason}`
    if (options.skipOffline) log.warning(`Skipping ${message}`, { title: 'Host skipped' })
    else log.error(message, { title: 'Host not reachable through SSM' })
  }
  const offlineResults = offline.map((o): HostResult => ({
    instanceId: o.instanceId,
    status: 'Skipped',
    reason: o.reason
  }))

  const base = {
    offline,
    offlineSkipped: options.skipOffline && offline.length > 0,
    dryRun: options.dryRun,
    commands: [] as SentCommand[]
  }
  if (offline.length && !options.skipOffline) {
    return {
      ...base,
      ok: false,
      waves: [],
      results: options.instanceIds.map(
        (id) =>
          offlineResults.find((r) => r.instanceId === id) ?? {
            instanceId: id,
            status: 'Skipped',
            reason: 'not started'
          }
      ),
      stoppedReason: `${offline.length} host(s) cannot be reached through SSM (set skip-offline: true to deploy to the others)`
    }
  }
  if (online.length === 0) {
    return {
      ...base,
      ok: false,
      waves: [],
      results: offlineResults,
      stoppedReason: 'No host is online.'
    }
  }

  const maxConcurrency = Math.max(1, resolveCountOrPercent(options.maxConcurrency, online.length))
  const maxErrors = resolveCountOrPercent(options.maxErrors, online.length)
  const waves = planWaves(online, {
    runOnce: options.runOnceScript !== undefined,
    canary: options.canary,
    maxConcurrency
  })
  log.info(
    `Rolling out to ${online.length} host(s) in ${waves.length} wave(s): up to ${maxConcurrency} at once, ` +
      `stopping after ${maxErrors === 0 ? 'the first failure' : `more than ${maxErrors} failure(s)`}; ` +
      `each host may take ${formatDuration(options.hostTimeoutMs)}, the whole rollout ${formatDuration(options.deadlineMs)}.`
  )
  for (const wave of waves) log.info(`  ${describeWave(wave)}: ${wave.instanceIds.join(' ')}`)

  const primaryInstanceId = online[0]!
  if (options.dryRun) {
    log.group('Dry run: the script each host would run', options.script)
    if (options.runOnceScript)
      log.group('Dry run: the run-once script for the primary', options.runOnceScript)
    return {
      ...base,
      ok: true,
      primaryInstanceId,
      waves,
      results: [
        ...online.map((id): HostResult => ({
          instanceId: id,
          status: 'Skipped',
          reason: 'dry run'
        })),
        ...offlineResults
      ]
    }
  }

  const results = new Map<string, HostResult>()
  let runOnce: HostResult | undefined
  let stoppedReason: string | undefined
  let failures = 0
  let fullOutputs = 0
  let notified = false
  const progress = { done: 0, failed: 0, total: online.length, lastLine: '', lastAt: -Infinity }

  for (const wave of waves) {
    if (stoppedReason) {
      for (const id of wave.instanceIds) {
        if (wave.kind !== 'run-once')
          results.set(id, {
            instanceId: id,
            status: 'Skipped',
            wave: wave.number,
            reason: `not started: ${stoppedReason}`
          })
      }
      continue
    }
    const script = wave.kind === 'run-once' ? options.runOnceScript! : options.script
    const outcome = await runWave(ssm, wave, script, options, {
      clock,
      deadline,
      log,
      signal: runtime.signal,
      hooks,
      progress,
      base
    })
    for (const r of outcome.results) {
      if (wave.kind === 'run-once') runOnce = r
      else results.set(r.instanceId, r)
    }
    const waveFailures = outcome.results.filter(isFailure)
    fullOutputs += await fetchFullOutput(ssm, waveFailures, fullOutputs)
    reportHosts(log, wave, outcome.results)
    notifyPrimary(wave, outcome.results, primaryInstanceId, hooks, notified)
    notified ||= wave.kind !== 'run-once'
    hooks.onWaveDone?.(wave, outcome.results)

    if (wave.kind === 'fleet') failures += waveFailures.length
    stoppedReason = outcome.interrupted
    if (!stoppedReason && wave !== waves.at(-1)) {
      if (wave.kind === 'run-once' && waveFailures.length)
        stoppedReason = 'run-once failed on the primary'
      else if (wave.kind === 'canary' && waveFailures.length) stoppedReason = 'the canary failed'
      else if (failures > maxErrors) {
        stoppedReason = `${failures} host(s) failed, more than max-errors (${maxErrors})`
      } else if (clock.now() >= deadline) {
        stoppedReason = `the deadline (${formatDuration(options.deadlineMs)}) passed`
      }
    }
    if (stoppedReason) {
      log.error(`Stopping the rollout after ${describeWave(wave)}: ${stoppedReason}.`, {
        title: 'Rollout stopped'
      })
    }
  }

  const ordered = [...online.map((id) => results.get(id)!), ...offlineResults]
  const ok =
    !stoppedReason &&
    (runOnce === undefined || runOnce.status === 'Success') &&
    ordered.every(
      (r) =>
        r.status === 'Success' ||
        (r.status === 'Skipped' && offline.some((o) => o.instanceId === r.instanceId))
    )
  log.info(
    `Rollout ${ok ? 'succeeded' : 'failed'} in ${formatDuration(clock.now() - started)}: ` +
      `${ordered.filter((r) => r.status === 'Success').length} succeeded, ${ordered.filter(isFailure).length} failed, ` +
      `${ordered.filter((r) => r.status === 'Skipped').length} skipped.`
  )
  return {
    ...base,
    ok,
    primaryInstanceId,
    waves,
    results: ordered,
    ...(runOnce ? { runOnce } : {}),
    ...(stoppedReason ? { stoppedReason } : {})
  }
}

interface WaveContext {
  clock: Clock
  deadline: number
  log: Log
  signal: AbortSignal
  hooks: RolloutHooks
  progress: { done: number; failed: number; total: number; lastLine: string; lastAt: number }
  base: { commands: SentCommand[] }
}

/** Sends one wave and waits for all of it; at the deadline or on cancel, cancels what runs. */
async function runWave(
  ssm: SSMClient,
  wave: Wave,
  script: readonly string[],
  options: RolloutOptions,
  ctx: WaveContext
): Promise<{ results: HostResult[]; interrupted?: string }> {
  const { clock, log } = ctx
  const sentAt = new Date(clock.now() - 5 * 60_000) // margin for clock skew in ListCommands' filter
  const pending = new Map<string, SentCommand>()
  log.info(`Starting ${describeWave(wave)}`)
  try {
    await sendCommands(
      ssm,
      wave.instanceIds,
      {
        document: options.document,
        script,
        hostTimeoutMs: options.hostTimeoutMs,
        deliveryTimeoutMs: ctx.deadline - clock.now(),
        comment: options.comment,
        ...(options.output ? { output: options.output } : {})
      },
      (commandId, instanceIds) => {
        const sent = { commandId, wave: wave.number, instanceIds }
        pending.set(commandId, sent)
        ctx.base.commands.push(sent)
        ctx.hooks.onCommandSent?.(sent)
      }
    )
  } catch (err) {
    // A wave is all or nothing: batches already sent are cancelled before the error surfaces.
    for (const sent of pending.values()) {
      log.warning(
        `Cancelling command ${sent.commandId}: a later batch of ${describeWave(wave)} could not be sent.`
      )
      await cancelCommand(ssm, sent.commandId).catch((e: unknown) =>
        log.warning(`Could not cancel command ${sent.commandId}: ${errorMessage(e)}`)
      )
    }
    throw err
  }

  const results: HostResult[] = []
  // Progress counts fleet hosts; run-once is an extra step on the primary, not a host done.
  const countsTowardProgress = wave.kind !== 'run-once'
  const before = { done: ctx.progress.done, failed: ctx.progress.failed }
  const finished = { done: 0, failed: 0 }
  const collect = async (sent: SentCommand): Promise<void> => {
    const r = await commandResults(ssm, sent.commandId, sent.instanceIds, wave.number)
    results.push(...r)
    pending.delete(sent.commandId)
    finished.done += r.length
    finished.failed += r.filter(isFailure).length
  }
  const setProgress = (running: { done: number; failed: number }, force = false): void => {
    if (!countsTowardProgress) return
    ctx.progress.done = before.done + finished.done + running.done
    ctx.progress.failed = before.failed + finished.failed + running.failed
    reportProgress(ctx, force)
  }

  let interrupted: string | undefined
  try {
    await poll({
      label: `${describeWave(wave)} to finish`,
      timeoutMs: Math.max(0, ctx.deadline - clock.now()),
      clock,
      signal: ctx.signal,
      ...(options.backoff ? { backoff: options.backoff } : {}),
      check: async () => {
        const states = await commandStates(ssm, [...pending.keys()], sentAt)
        const running = { done: 0, failed: 0 }
        for (const [id, sent] of [...pending]) {
          const state = states.get(id)
          if (state && TERMINAL_COMMAND_STATUSES.has(state.Status ?? '')) {
            await collect(sent)
          } else if (state) {
            running.done += state.CompletedCount ?? 0
            running.failed += (state.ErrorCount ?? 0) + (state.DeliveryTimedOutCount ?? 0)
          }
        }
        setProgress(running)
        return pending.size === 0
          ? { done: true, value: undefined }
          : { done: false, status: `${pending.size} command(s) still running` }
      }
    })
  } catch (err) {
    if (!(err instanceof PollTimeoutError) && !(err instanceof PollAbortedError)) throw err
    interrupted =
      err instanceof PollTimeoutError ? 'the deadline passed' : 'the rollout was cancelled'
    log.warning(`Cancelling ${pending.size} command(s) still running: ${interrupted}.`)
    for (const sent of [...pending.values()]) {
      try {
        await cancelCommand(ssm, sent.commandId)
      } catch (cancelErr) {
        log.warning(`Could not cancel command ${sent.commandId}: ${errorMessage(cancelErr)}`)
      }
      await collect(sent)
    }
    for (const r of results)
      if (r.status === 'Cancelled' && !r.reason) r.reason = `cancelled: ${interrupted}`
  }
  setProgress({ done: 0, failed: 0 }, true)
  const order = new Map(wave.instanceIds.map((id, i) => [id, i]))
  results.sort((a, b) => order.get(a.instanceId)! - order.get(b.instanceId)!)
  return interrupted ? { results, interrupted } : { results }
}

/**
 * Tells the caller the primary is done. Until run-once moves after the commands, the primary's
 * first wave that is not run-once (it leads the canary or the first fleet wave) decides.
 */
function notifyPrimary(
  wave: Wave,
  results: readonly HostResult[],
  primaryInstanceId: string,
  hooks: RolloutHooks,
  notified: boolean
): void {
  if (notified || wave.kind === 'run-once') return
  const primary = results.find((r) => r.instanceId === primaryInstanceId)
  if (primary?.status === 'Success') hooks.onPrimaryDone?.(primary)
}

function reportProgress(ctx: WaveContext, force = false): void {
  const { progress, clock } = ctx
  const line = `${progress.done}/${progress.total} hosts done, ${progress.failed} failed`
  if (line === progress.lastLine) return
  if (!force && clock.now() - progress.lastAt < PROGRESS_EVERY_MS) return
  progress.lastLine = line
  progress.lastAt = clock.now()
  ctx.log.info(line)
}

/** Fetches the fuller output of failed hosts, up to a budget; returns how many it fetched. */
async function fetchFullOutput(
  ssm: SSMClient,
  failed: HostResult[],
  fetched: number
): Promise<number> {
  const batch = failed
    .filter((r) => r.exitCode !== undefined)
    .slice(0, Math.max(0, FULL_OUTPUT_FETCHES - fetched))
  for (const r of batch) await addFullOutput(ssm, r)
  return batch.length
}

/** Each host's output in a collapsed group; failures as error annotations naming the host. */
function reportHosts(log: Log, wave: Wave, results: readonly HostResult[]): void {
  for (const r of results) {
    const head = `${r.instanceId}: ${r.status}${r.exitCode !== undefined ? ` (exit code ${r.exitCode})` : ''}${r.durationMs !== undefined ? ` in ${formatDuration(r.durationMs)}` : ''}`
    const lines = [
      ...(r.stdoutTail ? ['--- stdout (last lines) ---', r.stdoutTail] : []),
      ...(r.stderrTail ? ['--- stderr (last lines) ---', r.stderrTail] : []),
      ...(r.outputUrl ? [`Full output: ${r.outputUrl}`] : []),
      ...(r.reason ? [`Reason: ${r.reason}`] : [])
    ]
    log.group(`${describeWave(wave)} · ${head}`, lines.length ? lines : ['(no output)'])
    if (isFailure(r)) {
      const why = r.stderrTail?.split('\n').slice(-3).join('\n') ?? r.reason ?? ''
      log.error(`${head}${why ? `\n${why}` : ''}`, { title: `Deploy failed on ${r.instanceId}` })
    }
  }
}

export type { OfflineHost }
