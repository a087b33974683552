/**
 * Watches a fleet behind target groups while a bundle runs in another process: what each
 * target group said about a host while its command ran, and the fewest healthy hosts seen.
 *
 * A sample reads the running invocations, then the target groups, then the invocations again:
 * a host InProgress in the same command both times ran throughout the target-group read, so
 * its state in that read is its state while running (no race with the start or end).
 */
import { paginateListCommandInvocations } from '@aws-sdk/client-ssm'
import { sleep, targetStates, type TestClients } from '../../support/emulator/world.js'

export interface TrafficWatch {
  /** Host -> its states (one per target group, `absent` when not listed) in each sample while its command ran. */
  whileRunning: Map<string, string[]>
  /** The fewest hosts healthy in a target group at any sample. */
  fewestHealthy: number
  samples: number
}

async function running(c: TestClients): Promise<Set<string>> {
  const out = new Set<string>()
  for await (const page of paginateListCommandInvocations({ client: c.ssm }, {}))
    for (const i of page.CommandInvocations ?? [])
      if (i.Status === 'InProgress') out.add(`${i.CommandId} ${i.InstanceId}`)
  return out
}

export function watchTraffic(
  c: TestClients,
  arns: readonly string[]
): { stop(): Promise<TrafficWatch> } {
  const watch: TrafficWatch = { whileRunning: new Map(), fewestHealthy: Infinity, samples: 0 }
  let on = true
  const done = (async () => {
    while (on) {
      const before = await running(c)
      const states = await Promise.all(arns.map((arn) => targetStates(c, arn)))
      const after = await running(c)
      watch.samples++
      for (const s of states) {
        const healthy = Object.values(s).filter((t) => t.state === 'healthy').length
        watch.fewestHealthy = Math.min(watch.fewestHealthy, healthy)
      }
      for (const key of before) {
        if (!after.has(key)) continue
        const host = key.split(' ')[1]!
        const seen = states.map((s) => s[host]?.state ?? 'absent')
        watch.whileRunning.set(host, [...(watch.whileRunning.get(host) ?? []), ...seen])
      }
      await sleep(20)
    }
  })()
  return {
    stop: async () => {
      on = false
      await done
      return watch
    }
  }
}

/**
 * The job summary's load-balancer row of a wave of `hosts` hosts whose health gate passed:
 * its times out of service, draining and waiting for health, whatever they were.
 */
export function healthyWaveRow(wave: number, hosts: number): RegExp {
  return new RegExp(
    `^\\| ${wave} \\| ${hosts} \\| [0-9.]+m?s \\| [0-9.]+m?s \\| [0-9.]+m?s \\| ✅ healthy \\|$`,
    'm'
  )
}
