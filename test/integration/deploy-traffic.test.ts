/**
 * The deploy behind a target group, against the emulator's ELBv2 (draining, initial, failing
 * health checks): what the load balancer says at the moment each command is sent, how many
 * hosts stay healthy throughout, a health gate that fails, and a cancelled deploy.
 */
import { describe, expect, it } from '@jest/globals'
import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2'
import { ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { mapStateProvider } from '../../src/held/journal.js'
import { makeRuntime } from '../../src/runtime.js'
import {
  behindWebTargetGroup,
  tag,
  targetStates,
  type TargetGroupWorld,
  type TestClients,
  watchTargetGroup
} from '../../support/emulator/world.js'
import { deployBehindTargetGroups } from '../helpers/deploy-options.js'
import { intercept } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'
import { useEmulator } from '../helpers/emulator.js'

const emulator = useEmulator()
/** Min-healthy 3: of four hosts, one leaves at a time. */
const options = (w: TargetGroupWorld, extra: Partial<DeployOptions> = {}) =>
  deployBehindTargetGroups(w, { kind: 'count', value: 3 }, extra)

/**
 * The SSM client, with what each target group says about the hosts at each SendCommand.
 * `broken`: that host fails its health checks from its first command on (the deploy broke it;
 * one already unhealthy before the deploy is not the deploy's failure).
 */
function recordingSends(c: TestClients, arns: readonly string[], broken?: string) {
  const atSend: Array<{ instanceId: string; states: Array<string | undefined> }> = []
  const sent: string[][] = []
  const ssm = intercept(c.ssm, async (command, send) => {
    if (command instanceof SendCommandCommand) {
      const ids = command.input.InstanceIds ?? []
      sent.push([...ids])
      if (broken && ids.includes(broken))
        await tag(c.ec2, [broken], { 'emulator:health': 'Target.ResponseCodeMismatch' })
      const states = await Promise.all(arns.map((arn) => targetStates(c, arn)))
      for (const id of ids) atSend.push({ instanceId: id, states: states.map((s) => s[id]?.state) })
    }
    return send(command)
  })
  return { ssm, atSend, sent }
}

async function defaultVersion(c: TestClients, id: string): Promise<number | undefined> {
  const out = await c.ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] }))
  return out.LaunchTemplates?.[0]?.DefaultVersionNumber
}

describe('the deploy behind a target group', () => {
  it('sends to no host still registered or draining, and keeps min-healthy healthy', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 4)
    const arn = w.targetGroups[0]!.arn
    const { ssm, atSend, sent } = recordingSends(c, [arn])
    // Sampled every 25 ms, to see a dip below min-healthy however short.
    const watch = await watchTargetGroup(c, arn, 25)

    const result = await runDeploy(
      { ...c, ssm },
      options(w),
      makeRuntime({ log: new RecordingLog() })
    )
    const fewest = (await watch.stop()).fewestHealthy

    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    // min-healthy 3 of 4: one host out at a time, so one host per command.
    expect(sent.map((ids) => ids.length)).toEqual([1, 1, 1, 1])
    expect(atSend.map((s) => s.instanceId).sort()).toEqual([...w.instanceIds].sort())
    // At its send, every host was out of the target group: not listed, not even draining.
    for (const s of atSend) expect(s).toEqual({ instanceId: s.instanceId, states: [undefined] })
    expect(fewest).toBeGreaterThanOrEqual(3)
    // Everyone is back and healthy, and nothing is left in the journal.
    const after = await targetStates(c, arn)
    expect(Object.keys(after).sort()).toEqual([...w.instanceIds].sort())
    expect(Object.values(after).map((s) => s.state)).toEqual([
      'healthy',
      'healthy',
      'healthy',
      'healthy'
    ])
    expect(result.settled.filter((r) => r.held.kind === 'out-of-service')).toEqual([])
    expect(result.traffic?.hosts.map((h) => h.instanceId).sort()).toEqual([...w.instanceIds].sort())
    expect(result.publish?.targets[0]?.published).toBeDefined()
  })

  it('refuses a fleet too small for min-healthy before anything changes', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 3)
    const { ssm, sent } = recordingSends(c, [w.targetGroups[0]!.arn])
    await expect(
      runDeploy({ ...c, ssm }, options(w), makeRuntime({ log: new RecordingLog() }))
    ).rejects.toThrow(
      'Setting "minHealthy": "3" keeps 3 of the 3 host(s) in service, so none can leave the load balancer to deploy.'
    )
    expect(sent).toEqual([])
  })

  it('fails a host that does not become healthy, naming the group and reason, and publishes nothing', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 4)
    const arn = w.targetGroups[0]!.arn
    const broken = w.instanceIds.at(-1)!
    const { ssm } = recordingSends(c, [arn], broken)
    const before = await defaultVersion(c, w.launchTemplateId)

    const result = await runDeploy(
      { ...c, ssm },
      options(w, {
        traffic: {
          targetGroups: { auto: true, given: [] },
          minHealthy: { kind: 'count', value: 2 },
          healthTimeoutMs: 1_500
        }
      }),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(result.ok).toBe(false)
    const bad = result.rollout?.results.find((r) => r.instanceId === broken)
    expect(bad?.status).toBe('Failed')
    expect(bad?.reason).toBe(
      `after: ${broken} not healthy in target group web after 2s: unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])`
    )
    expect(result.failure?.message).toMatch(/^The rollout failed/)
    expect(result.publish?.targets[0]?.published).toBeUndefined()
    expect(await defaultVersion(c, w.launchTemplateId)).toBe(before)
    // Still registered: ELB routes around it; nothing was left out of the group.
    expect(Object.keys(await targetStates(c, arn)).sort()).toEqual([...w.instanceIds].sort())
  })

  it('rolls back every host that started, with the same traffic steps, after a health gate failed', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 4)
    const arn = w.targetGroups[0]!.arn
    const broken = w.instanceIds.at(-1)!
    const { ssm, atSend, sent } = recordingSends(c, [arn], broken)

    const result = await runDeploy(
      { ...c, ssm },
      options(w, {
        traffic: {
          targetGroups: { auto: true, given: [] },
          // No floor: which hosts a leave would keep serving is traffic.test.ts's and
          // capacity.test.ts's subject; here, what the rollback does with the hosts that started.
          minHealthy: { kind: 'count', value: 0 },
          healthTimeoutMs: 3_000
        },
        rollback: { commands: './rollback', script: { env: [['APP', 'shop']] } }
      }),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(result.ok).toBe(false)
    // Every host that started (the broken one among them) is rolled back; the others never ran.
    const started = result.rollout!.results.filter((r) => r.status !== 'Skipped')
    const ids = started.map((r) => r.instanceId)
    expect(ids).toContain(broken)
    expect(result.rollback?.instanceIds).toEqual(ids)
    // The broken host fails its health gate again after its rollback: named, not rolled back.
    expect(result.rollback?.rolledBack).toEqual(ids.filter((id) => id !== broken))
    expect(result.rollback?.failed.map((f) => f.instanceId)).toEqual([broken])
    expect(result.rollback?.previous).toEqual({ commit: '', snapshotId: w.initialSnapshotId })
    expect(result.failure?.message).toContain(
      `Rolled back ${ids.length - 1} of ${ids.length} host(s) to the previous release. The rollback FAILED on ${broken}`
    )
    // The rollback commands went out of service too: every send found its hosts deregistered.
    expect(sent.flat()).toHaveLength(ids.length * 2)
    for (const s of atSend) expect(s.states).toEqual([undefined])
    const rollbackCommand = result.rollback!.rollout!.commands[0]!.commandId
    const listed = await c.ssm.send(new ListCommandsCommand({ CommandId: rollbackCommand }))
    const script = listed.Commands?.[0]?.Parameters?.['commands']?.join('\n') ?? ''
    expect(script).toContain("export APP='shop'")
    expect(script).toContain(`export EBS_AUTOSCALE_PREVIOUS_SNAPSHOT='${w.initialSnapshotId}'`)
    expect(script).toContain("export EBS_AUTOSCALE_PREVIOUS_COMMIT=''")
    expect(result.publish?.targets[0]?.published).toBeUndefined()
  })

  it('leaves every host registered when cancelled mid-rollout', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 4)
    const arn = w.targetGroups[0]!.arn
    const abort = new AbortController()
    const { ssm, sent } = recordingSends(c, [arn])
    await tag(c.ec2, w.instanceIds, { 'emulator:ssm-seconds': '2' })
    const state = new Map<string, string>()
    const writes: string[] = []
    const recorded = {
      setState: (k: string, v: string) => {
        if (k === 'journal') writes.push(v)
        mapStateProvider(state).setState(k, v)
      },
      getState: (k: string) => state.get(k) ?? ''
    }
    const timer = setInterval(() => {
      // Cancel while the second host is out of service and running its commands.
      if (sent.length >= 2) abort.abort()
    }, 20)
    try {
      await runDeploy(
        { ...c, ssm },
        options(w, {
          traffic: {
            targetGroups: { auto: true, given: [] },
            minHealthy: { kind: 'count', value: 3 }
          }
        }),
        makeRuntime({ log: new RecordingLog(), signal: abort.signal }),
        recorded
      ).catch(() => undefined)
    } finally {
      clearInterval(timer)
    }
    expect(abort.signal.aborted).toBe(true)
    const states = await targetStates(c, arn)
    // Every host is registered (initial or healthy), none draining or gone.
    expect(Object.keys(states).sort()).toEqual([...w.instanceIds].sort())
    for (const s of Object.values(states)) expect(['initial', 'healthy']).toContain(s.state)
    // The journal held each host out of service while it was (the state keeps only what is
    // still held), and at the end none.
    const outOf = (text: string) =>
      (JSON.parse(text) as Array<{ held: { kind: string; instanceId?: string } }>)
        .filter((e) => e.held.kind === 'out-of-service')
        .map((e) => e.held.instanceId)
    expect(new Set(writes.flatMap(outOf)).size).toBeGreaterThanOrEqual(2)
    expect(outOf(writes.at(-1)!)).toEqual([])
  })
})
