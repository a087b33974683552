/**
 * The demo's second part: the fleet behind a target group. Six app servers in an Auto Scaling
 * group attached to target group `web` (the emulator drains a deregistered host for the
 * deregistration delay and holds a registered one `initial` for the health checks, both scaled
 * a hundredfold down); min-healthy 66%, so at most two hosts are out of service at once. The
 * rollout (the canary, then a sliding window) prints each host as it leaves service, has
 * drained, has deployed and is healthy again, while a watcher looks at the target group every
 * 50 ms; the run passes only if every host deployed, all are healthy at the end, and the
 * fewest healthy targets seen never went below min-healthy.
 */
import type { Emulator } from '../support/emulator/moto.js'
import {
  behindTargetGroups,
  targetStates,
  testClients,
  watchTargetGroup
} from '../support/emulator/world.js'
import { rollOutBehindTargetGroups, type StepEvent } from '../support/traffic-fleet.js'

const say = (line = '') => process.stdout.write(`${line}\n`)
const TIME_SCALE = 0.01
/** Each host's command, in seconds (the primary first): mixed, as real hosts are. */
const COMMAND_SECONDS = [3, 5, 2, 4, 6, 3]

export async function trafficDemo(emulator: Emulator): Promise<boolean> {
  await emulator.reset()
  const c = testClients(emulator.endpoint)
  const world = await behindTargetGroups(c, {
    size: COMMAND_SECONDS.length,
    targetGroups: [
      {
        name: 'web',
        deregistrationDelaySeconds: 300,
        intervalSeconds: 30,
        healthyThreshold: 3,
        timeScale: TIME_SCALE
      }
    ]
  })
  const arn = world.targetGroups[0]!.arn
  say(
    `\nBehind a load balancer: ${world.instanceIds.length} app servers in ${world.asgName}, attached to target group web,`
  )
  say(
    `every one healthy. Deregistration delay 300 s and health checks 30 s x 3, scaled by ${TIME_SCALE}: a host drains for`
  )
  say(
    `${300 * TIME_SCALE} s and is healthy ${90 * TIME_SCALE} s after it is registered again. Commands take ${COMMAND_SECONDS.join(', ')} s.`
  )

  const started = Date.now()
  const at = () => `+${((Date.now() - started) / 1000).toFixed(1).padStart(4)} s`
  const short = (id: string) => id.slice(-6)
  const hosts = (ids: readonly string[]) => ids.map(short).join(' ')
  const onStep = (e: StepEvent) => {
    const ids = hosts(e.instanceIds)
    if (e.step === 'before' && e.phase === 'begin')
      say(`${at()}  ${ids}: leave service (deregistered)`)
    else if (e.step === 'before' && e.phase === 'end') say(`${at()}  ${ids}: drained, deploying`)
    else if (e.step === 'after' && e.phase === 'begin')
      say(`${at()}  ${ids}: deployed, back in the target group (initial)`)
    else if (e.phase === 'end' && e.failed.length === 0) say(`${at()}  ${ids}: healthy again`)
    else if (e.phase === 'end')
      say(`${at()}  ${ids}: NOT healthy: ${e.failed.map((f) => f.reason).join('; ')}`)
  }

  const watch = await watchTargetGroup(c, arn)
  const run = await rollOutBehindTargetGroups(c, world, {
    durationsMs: COMMAND_SECONDS.map((s) => s * 1000),
    minHealthy: { kind: 'percent', value: 66 },
    deliveryDelayMs: 300,
    onStep,
    hooks: {
      onWaveDone: (wave, results) =>
        say(
          `${at()}  wave ${wave.number} (${wave.kind}) done: ${results.map((r) => `${short(r.instanceId)} ${r.status}`).join(', ')}`
        )
    }
  })
  const seen = await watch.stop()
  const capacity = run.plan.capacity!
  say(
    `\nThe plan: ${capacity.minHealthy} of ${capacity.inService} hosts stay in service, at most ${capacity.maxOutOfService} out at once; the rollout took ${(run.wallMs / 1000).toFixed(1)} s.`
  )
  say('\n| host | drained in | out of service | health wait |')
  say('| ---- | ---------- | -------------- | ----------- |')
  for (const h of run.hosts) {
    const t = run.traffic.hosts.get(h.instanceId)
    if (!t) continue
    const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`
    say(
      `| ${short(h.instanceId)} | ${s(t.drainMs)} | ${s(t.outOfServiceMs)} | ${s(t.healthWaitMs)} |`
    )
  }
  const end = Object.values(await targetStates(c, arn))
  const allHealthy = end.length === run.hosts.length && end.every((s) => s.state === 'healthy')
  say(
    `\nHealthy targets in web, looked at ${seen.looks} times: ${seen.changes.map((x) => `${x.healthy} at +${(x.atMs / 1000).toFixed(1)} s`).join(', ')}`
  )
  const ok = run.result.ok && allHealthy && seen.fewestHealthy >= capacity.minHealthy
  say(
    ok
      ? `✔ Every host deployed and is healthy again; the fewest healthy targets seen was ${seen.fewestHealthy}, never below min-healthy (${capacity.minHealthy}).`
      : `✘ Something is off: rollout ${run.result.ok ? 'ok' : `failed (${run.result.stoppedReason})`}, all healthy at the end: ${allHealthy}, fewest healthy seen ${seen.fewestHealthy} (min-healthy ${capacity.minHealthy}).`
  )
  return ok
}
