/** The alarms and bake times in a job summary: which alarm fired, when, why, who went back. */
import type { AlarmReport } from '../alarms/types.js'
import { formatDuration } from '../duration.js'
import type { RollbackResult } from '../rollout/rollback.js'
import { code } from './markdown.js'

export function alarmsSection(report: AlarmReport | undefined, rollback?: RollbackResult): string {
  if (!report) return ''
  const lines: string[] = []
  if (report.names.length) {
    const insufficient =
      report.insufficientData === 'fail' ? ' (INSUFFICIENT_DATA counts as ALARM)' : ''
    lines.push(`- Watched: ${report.names.map(code).join(', ')}${insufficient}`)
  }
  const fired = report.fired
  if (fired) {
    const when = fired.updatedAt
      ? fired.updatedAt.toISOString()
      : new Date(fired.seenAt).toISOString()
    lines.push(
      `- 🚨 ${code(fired.name)} went into ${fired.state} at ${when} (seen at ${new Date(fired.seenAt).toISOString()})${fired.reason ? `: ${fired.reason}` : ''}`
    )
    if (rollback?.rolledBack.length)
      lines.push(`- Rolled back: ${rollback.rolledBack.map(code).join(', ')}`)
    if (rollback?.failed.length)
      lines.push(
        `- ⚠️ Rollback failed on: ${rollback.failed.map((f) => code(f.instanceId)).join(', ')}`
      )
  } else if (report.names.length) lines.push('- No alarm fired.')
  for (const b of report.bakes) {
    lines.push(
      `- Bake ${b.after}: ${b.stoppedBy ? `❌ ended after ${formatDuration(b.waitedMs)} of ${formatDuration(b.bakeMs)}: ${b.stoppedBy}` : `✅ ${formatDuration(b.waitedMs)}, all quiet`}`
    )
  }
  return `### Alarms and bake time\n\n${lines.join('\n')}`
}
