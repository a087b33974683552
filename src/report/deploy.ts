/** The deploy's job summary: one readable report of the whole pipeline. */
import type { CatchUpResult } from '../deploy/catch-up.js'
import type { DeployResult } from '../deploy/types.js'
import { type Provenance, shortSha } from '../model/provenance.js'
import { formatDuration } from '../duration.js'
import { warmPoolLines } from './warm-pool.js'
import { alarmsSection } from './alarms.js'
import { releaseSection } from './release.js'
import { hostsTable, standbyNote } from './hosts.js'
import { trafficReport } from './traffic.js'
import { code, table } from './markdown.js'
import { commandLinks, rolloutTable, rolloutTotals } from './rollout.js'
import { snapshotReport } from './snapshot.js'

export function deployVerdict(result: DeployResult, run: Provenance): string {
  const what = run.repository ? `${code(`${run.repository}@${shortSha(run.sha)}`)} ` : ''
  if (result.dryRun)
    return `**Dry run** of deploying ${what}to ${result.hosts.length} host(s): nothing was sent, created or changed.`
  if (!result.ok) return `**Failed**: ${result.failure?.message ?? 'see below'}`
  const results = result.rollout?.results ?? []
  const gone = results.filter((r) => r.status === 'Terminated').length
  return (
    `**Deployed** ${what}to ${results.length - gone} host(s)` +
    (gone ? ` (${gone} terminated mid-rollout)` : '') +
    (result.catchUp?.caughtUp.length
      ? ` and caught up ${result.catchUp.caughtUp.length} launched meanwhile`
      : '') +
    bootsFrom(result)
  )
}

/** What new instances boot from: one template's new default, or each template's. */
function bootsFrom(result: DeployResult): string {
  const targets = result.publish?.targets ?? []
  const defaults = targets.flatMap((t) => (t.published?.isDefault ? [t] : []))
  const first = defaults[0]?.published
  if (!first) return '.'
  if (defaults.length === 1 && targets.length === 1)
    return `; new instances boot from ${code(first.snapshotId)} (launch template version ${first.version}, the default).`
  const each = defaults.map((t) => `${t.template.name} v${t.published!.version}`).join(', ')
  return `; new instances boot from ${code(first.snapshotId)} (the new default version of each launch template: ${each}).`
}

export function phasesTable(result: DeployResult): string {
  const start = result.phases.timings[0]?.startedAt ?? 0
  return table(
    ['Phase', 'Started at', 'Took'],
    result.phases.timings.map((t) => [
      t.name,
      `+${formatDuration(t.startedAt - start)}`,
      t.endedAt === undefined ? 'unfinished' : formatDuration(t.endedAt - t.startedAt)
    ])
  )
}

export function catchUpTable(c: CatchUpResult): string {
  const rows = [
    ...c.caughtUp.map((id) => [code(id), '✅ deployed']),
    ...c.upToDate.map((id) => [code(id), 'launched from the new version: nothing to do']),
    ...c.failed.map((f) => [code(f.instanceId), `❌ ${f.reason}`])
  ]
  if (!rows.length) return `No instance appeared during the deploy (${c.rounds} look(s)).`
  return table(['Instance launched during the deploy', 'Outcome'], rows)
}

export function deployReport(result: DeployResult, run: Provenance, region: string): string {
  const parts = [
    `## deploy${result.dryRun ? ' (dry run)' : ''}`,
    deployVerdict(result, run),
    '### Phases',
    phasesTable(result)
  ]
  if (result.preflight) {
    parts.push(
      `<details><summary>Pre-flight: ${result.preflight.length} checks passed</summary>\n\n${result.preflight.map((l) => `- ${l}`).join('\n')}\n\n</details>`
    )
  }
  if (result.locks.length) parts.push(result.locks.map((l) => `- ${l}`).join('\n'))
  if (result.rollout) {
    parts.push(
      '### Rollout',
      rolloutTotals(result.rollout),
      rolloutTable(result.rollout),
      commandLinks(result.rollout, region)
    )
  }
  parts.push(alarmsSection(result.alarms, result.rollback))
  parts.push(releaseSection(result.release, result.publish?.targets, result.publish?.snapshot.tags))
  if (result.traffic?.plan.targetGroups.length) {
    const results = [
      ...(result.rollout?.results ?? []),
      ...(result.catchUp?.rollouts.flatMap((r) =>
        r.results.map((h) => ({ ...h, wave: undefined }))
      ) ?? [])
    ]
    parts.push(trafficReport(result.traffic.plan, result.traffic.hosts, results))
  }
  if (result.hosts.length) {
    parts.push(
      `<details><summary>Hosts (${result.hosts.length})</summary>\n\n${hostsTable(result.hosts)}\n\n</details>`,
      standbyNote(result.hosts)
    )
  }
  if (result.publish) parts.push(snapshotReport(result.publish, region))
  const warm = warmPoolLines(result.publish?.warmPools ?? [], result.dryRun)
  if (warm.length) parts.push('### Warm pools', warm.map((l) => `- ${l}`).join('\n'))
  if (result.catchUp) parts.push('### Catch-up', catchUpTable(result.catchUp))
  if (result.settled.length) {
    parts.push(
      '### Cleaned up at the end',
      result.settled.map((r) => `- ${r.ok ? '' : '⚠️ '}${r.outcome}`).join('\n')
    )
  }
  return parts.filter((p) => p !== '').join('\n\n') + '\n'
}
