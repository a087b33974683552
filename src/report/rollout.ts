/** The rollout's part of a job summary, and the one-line verdict when it fails. */
import { formatDuration } from '../duration.js'
import { isFailure, type HostResult, type RolloutResult } from '../rollout/types.js'
import { code, table } from './markdown.js'

const ICON: Record<string, string> = { Success: '✅', Skipped: '⏭️', Terminated: '⚠️' }

const isTerminated = (r: HostResult): boolean => r.status === 'Terminated'

export function consoleUrl(region: string, commandId: string): string {
  return `https://${region}.console.aws.amazon.com/systems-manager/run-command/${commandId}?region=${region}`
}

export function rolloutTotals(result: RolloutResult): string {
  const n = (f: (r: HostResult) => boolean) => result.results.filter(f).length
  return (
    `**${result.ok ? 'Succeeded' : result.dryRun ? 'Dry run' : 'Failed'}** · ${result.results.length} host(s): ` +
    `${n((r) => r.status === 'Success')} succeeded, ${n(isFailure)} failed, ${n((r) => r.status === 'Skipped')} skipped` +
    (n(isTerminated) ? `, ${n(isTerminated)} terminated mid-rollout` : '') +
    (result.stoppedReason ? ` · stopped: ${result.stoppedReason}` : '')
  )
}

export function rolloutTable(result: RolloutResult): string {
  const rows = [
    ...(result.runOnce ? [{ ...result.runOnce, label: 'run-once' }] : []),
    ...result.results
  ]
  return table(
    ['Instance', 'Wave', 'Status', 'Exit code', 'Duration', 'Detail'],
    rows.map((r) => [
      code(r.instanceId) + ('label' in r ? ' (run-once)' : ''),
      r.wave,
      `${ICON[r.status] ?? '❌'} ${r.status}`,
      r.exitCode,
      r.durationMs === undefined ? undefined : formatDuration(r.durationMs),
      r.reason ?? (isFailure(r) ? (r.outputTail ?? r.stderrTail)?.split('\n').pop() : undefined)
    ])
  )
}

export function commandLinks(result: RolloutResult, region: string): string {
  if (result.commands.length === 0) return ''
  return (
    'Commands: ' +
    result.commands
      .map(
        (c) =>
          `[${c.commandId.slice(0, 8)}](${consoleUrl(region, c.commandId)}) (wave ${c.wave}, ${c.instanceIds.length} host(s))`
      )
      .join(' · ')
  )
}

/** The step's failure message: which hosts, how, and why the rollout stopped. */
export function rolloutFailure(result: RolloutResult): string {
  const bad = [
    ...(result.runOnce && isFailure(result.runOnce) ? [result.runOnce] : []),
    ...result.results.filter(isFailure)
  ]
  const offline = result.offlineSkipped ? [] : result.offline
  const parts = [
    ...bad.map(
      (r) =>
        `${r.instanceId} (${r.status}${r.exitCode !== undefined ? `, exit code ${r.exitCode}` : ''})`
    ),
    ...offline.map((o) => `${o.instanceId} (${o.reason})`)
  ]
  return (
    `Rollout failed${parts.length ? ` on ${parts.length} host(s): ${parts.join('; ')}` : ''}` +
    (result.stoppedReason ? `. Stopped: ${result.stoppedReason}.` : '.')
  )
}
