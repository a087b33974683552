/** What the log shows of each finished host: its output in a group, failures and terminated hosts as annotations. */
import type { SSMClient } from '@aws-sdk/client-ssm'
import { formatDuration } from '../duration.js'
import type { Log } from '../log.js'
import { addFullOutput } from './commands.js'
import { describeWave } from './plan.js'
import { type HostResult, isFailure, type Wave } from './types.js'

/** Full output is fetched for at most this many failed hosts; the rest keep the listing's. */
const FULL_OUTPUT_FETCHES = 20

/** Fetches the fuller output of failed hosts that ran, up to a budget over the whole rollout. */
export class FullOutput {
  private fetched = 0
  constructor(private readonly ssm: SSMClient) {}

  async add(results: readonly HostResult[]): Promise<void> {
    const batch = results
      .filter((r) => isFailure(r) && r.exitCode !== undefined)
      .slice(0, Math.max(0, FULL_OUTPUT_FETCHES - this.fetched))
    for (const r of batch) await addFullOutput(this.ssm, r)
    this.fetched += batch.length
  }
}

/** Each host's output in a collapsed group; failures as error annotations naming the host. */
export function reportHosts(log: Log, wave: Wave, results: readonly HostResult[]): void {
  for (const r of results) {
    const head = `${r.instanceId}: ${r.status}${r.exitCode !== undefined ? ` (exit code ${r.exitCode})` : ''}${r.durationMs !== undefined ? ` in ${formatDuration(r.durationMs)}` : ''}`
    const lines = outputLines(r)
    log.group(`${describeWave(wave)} · ${head}`, lines.length ? lines : ['(no output)'])
    if (isFailure(r)) {
      const last = r.outputTail ?? r.stderrTail
      const why = last?.split('\n').slice(-3).join('\n') ?? r.reason ?? ''
      log.error(`${head}${why ? `\n${why}` : ''}`, { title: `Deploy failed on ${r.instanceId}` })
    } else if (r.status === 'Terminated') {
      // Not a failure of the code: the group replaces the host (the deploy catches it up).
      log.warning(`${head}: ${r.reason ?? 'the instance is gone'}`, {
        title: `Host terminated mid-rollout: ${r.instanceId}`
      })
    }
  }
}

/**
 * A host's output for its group: the last lines of the whole output when the script printed them
 * (they end where the failure is; SSM's copy of stdout is then only its start), else the last
 * lines SSM kept of each stream; then where the whole output is and whether SSM cut it.
 */
function outputLines(r: HostResult): string[] {
  const logPath = r.logPath ?? 'on the host'
  return [
    ...(r.stdoutTail && !r.outputTail ? ['--- stdout (last lines) ---', r.stdoutTail] : []),
    ...(r.stderrTail ? ['--- stderr (last lines) ---', r.stderrTail] : []),
    ...(r.outputTail ? [`--- last lines of output (full log: ${logPath}) ---`, r.outputTail] : []),
    ...(r.outputNote ? [r.outputNote] : []),
    ...(r.outputUrl ? [`Full output: ${r.outputUrl}`] : []),
    ...(r.cloudWatchOutput ? [`Full output in CloudWatch Logs: ${r.cloudWatchOutput}`] : []),
    ...(r.reason ? [`Reason: ${r.reason}`] : [])
  ]
}
