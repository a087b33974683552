/**
 * The rollout: checks the agents, plans the waves (the primary's commands then run-once on it,
 * the canary, then the fleet), runs them enforcing max-concurrency and max-errors across the whole fleet (SSM's
 * own limits apply per command of at most 50 hosts) within a deadline, and returns every
 * host's result. The parts: plan.ts and scheduler.ts (who may start), tracker.ts (the SSM
 * commands), gone.ts (hosts terminated mid-rollout), stop.ts (when to stop), lifecycle.ts (steps
 * around each host), result.ts.
 */
import type { SSMClient } from '@aws-sdk/client-ssm'
import { ActionError } from '../errors.js'
import { type CountOrPercent, resolveCountOrPercent } from '../model/fleet.js'
import { formatDuration } from '../duration.js'
import type { Log } from '../log.js'
import type { Runtime } from '../runtime.js'
import type { Backoff } from '../poll.js'
import { checkAgents } from './agents.js'
import type { OutputOptions } from './commands.js'
import { Execution } from './execution.js'
import type { GoneHosts } from './gone.js'
import { FullOutput } from './host-log.js'
import { type HostScript, scriptShown } from './host-script.js'
import type { Lifecycle } from './lifecycle.js'
import { describeWave, planWaves, type SchedulePolicy } from './plan.js'
import { buildResult, type Outcome } from './result.js'
import { Scheduler } from './scheduler.js'
import { StopPolicy } from './stop.js'
import { CommandTracker } from './tracker.js'
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
  script: HostScript
  /**
   * Runs on the primary right after its commands succeeded, before any other host starts; its
   * failure stops the rollout.
   */
  runOnceScript?: HostScript
  /**
   * The primary's last script instead of its run-once (when there is one) or its commands: the
   * deploy's, ending with the flush before the snapshot (consistency: sync).
   */
  primaryLastScript?: HostScript
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
  /** Discrete waves or a sliding window after the canary. */
  schedule?: SchedulePolicy
  /** Polling pace (tests and benchmarks); the default suits AWS. */
  backoff?: Partial<Backoff>
  /** How often running hosts' instance states are looked at (tests); default 20 s. */
  stateCheckEveryMs?: number
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
  /**
   * Asked before any new host starts: a reason stops the rollout like max-errors does (hosts
   * running finish, the rest are reported Skipped, "not started: <reason>").
   */
  shouldStop?(): string | undefined
  /**
   * Awaited once the canary wave finished, before the first host after it starts (nothing runs
   * meanwhile: the bake after the canary); a reason stops the rollout as shouldStop does.
   */
  afterCanary?(): Promise<string | undefined>
  /** Steps awaited around each group of hosts that starts together (load balancers). */
  lifecycle?: Lifecycle
  /**
   * Which of these hosts are gone (EC2 instance states: shutting-down, terminated, not found).
   * Asked about the running hosts at a bounded pace and about hosts whose invocation ended
   * badly; a gone host is reported Terminated, not failed. Without it, a terminated host waits
   * out its timeout and fails.
   */
  goneHosts?: GoneHosts
}

export async function runRollout(
  ssm: SSMClient,
  options: RolloutOptions,
  runtime: Runtime,
  hooks: RolloutHooks = {}
): Promise<RolloutResult> {
  const { clock, log } = runtime
  const started = clock.now()
  if (options.instanceIds.length === 0) throw new ActionError('No hosts to roll out to.')

  const { online, offline } = await checkAgents(ssm, options.instanceIds)
  logOffline(log, offline, options.skipOffline)
  const base: Outcome = {
    instanceIds: options.instanceIds,
    offline,
    skipOffline: options.skipOffline,
    dryRun: options.dryRun,
    waves: [],
    results: new Map(),
    commands: []
  }
  if (offline.length && !options.skipOffline) {
    const why = `${offline.length} host(s) cannot be reached through SSM (set skip-offline: true to deploy to the others)`
    return buildResult({ ...base, stoppedReason: why })
  }
  if (online.length === 0) return buildResult({ ...base, stoppedReason: 'No host is online.' })

  const { scheduler, maxConcurrency, maxErrors } = planRollout(online, options)
  logPlan(log, options, scheduler.waves, online.length, maxConcurrency, maxErrors)
  const planned: Outcome = {
    ...base,
    primaryInstanceId: online[0]!,
    waves: scheduler.waves,
    waveOf: (id) => scheduler.waveOf(id)
  }
  if (options.dryRun) {
    logDryRun(log, options)
    return buildResult(planned)
  }

  const { execution, tracker } = await execute(ssm, options, runtime, hooks, {
    scheduler,
    deadline: started + options.deadlineMs,
    maxErrors,
    primaryInstanceId: online[0]!,
    totalHosts: online.length
  })

  const result = buildResult({
    ...planned,
    results: execution.results,
    ...(execution.runOnce ? { runOnce: execution.runOnce } : {}),
    commands: tracker.sent,
    ...(execution.stoppedReason ? { stoppedReason: execution.stoppedReason } : {})
  })
  logOutcome(log, result, clock.now() - started)
  return result
}

/** The limits, resolved over the hosts online, and the waves they make. */
function planRollout(
  online: readonly string[],
  options: RolloutOptions
): { scheduler: Scheduler; maxConcurrency: number; maxErrors: number } {
  const maxConcurrency = Math.max(1, resolveCountOrPercent(options.maxConcurrency, online.length))
  const maxErrors = resolveCountOrPercent(options.maxErrors, online.length)
  const scheduler = new Scheduler(
    planWaves(online, {
      runOnce: options.runOnceScript !== undefined,
      canary: options.canary,
      maxConcurrency,
      policy: options.schedule ?? 'window'
    })
  )
  return { scheduler, maxConcurrency, maxErrors }
}

interface Plan {
  scheduler: Scheduler
  deadline: number
  maxErrors: number
  primaryInstanceId: string
  totalHosts: number
}

/** Puts the parts together and runs them. */
async function execute(
  ssm: SSMClient,
  options: RolloutOptions,
  runtime: Runtime,
  hooks: RolloutHooks,
  plan: Plan
): Promise<{ execution: Execution; tracker: CommandTracker }> {
  const { scheduler, deadline } = plan
  const tracker = new CommandTracker(ssm, runtime, {
    send: {
      document: options.document,
      hostTimeoutMs: options.hostTimeoutMs,
      comment: options.comment,
      ...(options.output ? { output: options.output } : {})
    },
    deadline,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    eager: scheduler.until === 'any',
    totalHosts: plan.totalHosts,
    onSent: (sent) => hooks.onCommandSent?.(sent),
    ...(hooks.goneHosts ? { goneHosts: hooks.goneHosts } : {}),
    ...(options.stateCheckEveryMs ? { stateCheckEveryMs: options.stateCheckEveryMs } : {})
  })
  const stop = new StopPolicy({
    maxErrors: plan.maxErrors,
    deadline,
    deadlineMs: options.deadlineMs,
    clock: runtime.clock,
    signal: runtime.signal,
    ...(hooks.shouldStop ? { shouldStop: () => hooks.shouldStop?.() } : {})
  })
  const execution = new Execution({
    scheduler,
    tracker,
    stop,
    fullOutput: new FullOutput(ssm),
    runtime,
    scripts: {
      commands: options.script,
      ...(options.runOnceScript ? { runOnce: options.runOnceScript } : {}),
      ...(options.primaryLastScript ? { primaryLast: options.primaryLastScript } : {})
    },
    primaryInstanceId: plan.primaryInstanceId,
    ...(hooks.lifecycle ? { lifecycle: hooks.lifecycle } : {}),
    // Only a caller that waits on the primary gets it polled at the critical pace.
    ...(hooks.onPrimaryDone ? { onPrimaryDone: (r: HostResult) => hooks.onPrimaryDone?.(r) } : {}),
    onWaveDone: (w, r) => hooks.onWaveDone?.(w, r),
    ...(hooks.afterCanary ? { afterCanary: () => hooks.afterCanary!() } : {})
  })
  await execution.execute()
  return { execution, tracker }
}

function logOffline(log: Log, offline: readonly OfflineHost[], skip: boolean): void {
  for (const o of offline) {
    const message = `${o.instanceId}: ${o.reason}`
    if (skip) log.warning(`Skipping ${message}`, { title: 'Host skipped' })
    else log.error(message, { title: 'Host not reachable through SSM' })
  }
}

function logDryRun(log: Log, options: RolloutOptions): void {
  log.group('Dry run: the script each host would run', scriptShown(options.script))
  if (options.runOnceScript)
    log.group('Dry run: the run-once script for the primary', scriptShown(options.runOnceScript))
}

/** The outcome in one line: how long it took, and how many hosts ended each way. */
function logOutcome(log: Log, result: RolloutResult, elapsedMs: number): void {
  const count = (f: (r: HostResult) => boolean) => result.results.filter(f).length
  log.info(
    `Rollout ${result.ok ? 'succeeded' : 'failed'} in ${formatDuration(elapsedMs)}: ` +
      `${count((r) => r.status === 'Success')} succeeded, ${count(isFailure)} failed, ` +
      `${count((r) => r.status === 'Skipped')} skipped` +
      (count((r) => r.status === 'Terminated')
        ? `, ${count((r) => r.status === 'Terminated')} terminated mid-rollout (not failures).`
        : '.')
  )
}

function logPlan(
  log: Log,
  options: RolloutOptions,
  waves: readonly Wave[],
  hosts: number,
  maxConcurrency: number,
  maxErrors: number
): void {
  log.info(
    `Rolling out to ${hosts} host(s) in ${waves.length} wave(s): up to ${maxConcurrency} at once, ` +
      `stopping after ${maxErrors === 0 ? 'the first failure' : `more than ${maxErrors} failure(s)`}; ` +
      `each host may take ${formatDuration(options.hostTimeoutMs)}, the whole rollout ${formatDuration(options.deadlineMs)}.`
  )
  for (const wave of waves) log.info(`  ${describeWave(wave)}: ${wave.instanceIds.join(' ')}`)
}

export type { OfflineHost }
