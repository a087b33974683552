/**
 * Capacity as the load balancer sees it, against the emulator's ELBv2: targets unhealthy before
 * the deploy (the `emulator:health` tag) count as serving nothing; a deploy that would start
 * below min-healthy is refused before any change, naming them; with unhealthy-first they go
 * first; and the target groups are checked before the deploy lock, so a typo never waits on it.
 */
import { describe, expect, it } from '@jest/globals'
import { DescribeSnapshotsCommand } from '@aws-sdk/client-ec2'
import { GetParameterCommand, SendCommandCommand } from '@aws-sdk/client-ssm'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { acquireDeployLock, lockName, parseHolder } from '../../src/lock/deploy-lock.js'
import { makeRuntime } from '../../src/runtime.js'
import {
  behindWebTargetGroup,
  tag,
  targetStates,
  type TargetGroupWorld,
  type TestClients
} from '../../support/emulator/world.js'
import { RUN } from '../../support/fixtures.js'
import { deployBehindTargetGroups } from '../helpers/deploy-options.js'
import { useEmulator } from '../helpers/emulator.js'
import { intercept } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'
import { watchTraffic } from '../helpers/traffic-watch.js'

const emulator = useEmulator()
/** Min-healthy two thirds; the lock waits ten minutes (a typo must fail before it). */
const options = (w: TargetGroupWorld, extra: Partial<DeployOptions> = {}) =>
  deployBehindTargetGroups(
    w,
    { kind: 'percent', value: 66 },
    {
      lock: { timeoutMs: 600_000, holdMs: 3_600_000 },
      ...extra
    }
  )

/** The SSM client, recording each send; `repair`ed hosts are healthy again from their send on. */
function sends(c: TestClients, repair: readonly string[] = []) {
  const sent: string[][] = []
  const ssm = intercept(c.ssm, async (command, send) => {
    if (command instanceof SendCommandCommand) {
      const ids = command.input.InstanceIds ?? []
      sent.push([...ids])
      const fixed = ids.filter((id) => repair.includes(id))
      if (fixed.length) await tag(c.ec2, fixed, { 'emulator:health': 'healthy' })
    }
    return send(command)
  })
  return { ssm, sent }
}

async function lockExists(c: TestClients, templateId: string): Promise<boolean> {
  try {
    await c.ssm.send(new GetParameterCommand({ Name: lockName(templateId) }))
    return true
  } catch {
    return false
  }
}

async function sixWithTwoUnhealthy(c: TestClients) {
  const w = await behindWebTargetGroup(c, 6)
  const sick = w.instanceIds.slice(-2)
  await tag(c.ec2, [sick[0]!], { 'emulator:health': 'Target.ResponseCodeMismatch' })
  await tag(c.ec2, [sick[1]!], { 'emulator:health': 'Target.Timeout' })
  return { w, arn: w.targetGroups[0]!.arn, sick }
}

describe('capacity as the load balancer sees it', () => {
  it('refuses before any change a deploy that would start below min-healthy, naming the unhealthy targets', async () => {
    const c = emulator.clients
    const { w, arn, sick } = await sixWithTwoUnhealthy(c)
    const { ssm, sent } = sends(c)
    const snapshotsBefore = (await c.ec2.send(new DescribeSnapshotsCommand({}))).Snapshots?.length

    await expect(
      runDeploy({ ...c, ssm }, options(w), makeRuntime({ log: new RecordingLog() }))
    ).rejects.toThrow(
      `Setting "minHealthy": "66%" keeps 4 of the 6 target(s) of target group web healthy, and only 4 are healthy now: no host can leave it without going below. Not serving: ${sick[0]} (unhealthy: Target.ResponseCodeMismatch), ${sick[1]} (unhealthy: Target.Timeout). Nothing was changed.`
    )
    // Nothing sent, every target still registered (4 healthy), no lock left, no snapshot made.
    expect(sent).toEqual([])
    const states = await targetStates(c, arn)
    expect(Object.keys(states).sort()).toEqual([...w.instanceIds].sort())
    expect(Object.values(states).filter((s) => s.state === 'healthy')).toHaveLength(4)
    expect(await lockExists(c, w.launchTemplateId)).toBe(false)
    expect((await c.ec2.send(new DescribeSnapshotsCommand({}))).Snapshots?.length).toBe(
      snapshotsBefore
    )
  }, 60_000)

  it('with unhealthy-first, deploys the unhealthy hosts first and never goes below min-healthy', async () => {
    const c = emulator.clients
    const { w, arn, sick } = await sixWithTwoUnhealthy(c)
    // The deploy repairs them: healthy once their commands ran.
    const { ssm, sent } = sends(c, sick)
    const watch = watchTraffic(c, [arn])
    const traffic = { ...options(w).traffic!, unhealthyFirst: true }

    const result = await runDeploy(
      { ...c, ssm },
      options(w, { traffic }),
      makeRuntime({ log: new RecordingLog() })
    )
    const seen = await watch.stop()

    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    // The two that served nothing went first (the first of them is the primary), the rest after.
    expect(sent.flat().slice(0, 2).sort()).toEqual([...sick].sort())
    expect(sent.flat().sort()).toEqual([...w.instanceIds].sort())
    expect(sick).toContain(result.rollout?.primaryInstanceId)
    expect(seen.fewestHealthy).toBeGreaterThanOrEqual(4)
    const after = await targetStates(c, arn)
    expect(Object.keys(after).sort()).toEqual([...w.instanceIds].sort())
    for (const s of Object.values(after)) expect(s.state).toBe('healthy')
    expect(await lockExists(c, w.launchTemplateId)).toBe(false)
    expect(result.publish?.targets[0]?.published).toBeDefined()
  }, 60_000)

  it('names a host still unhealthy after its deploy as unhealthy before it, not as the deploy failing', async () => {
    const c = emulator.clients
    const { w, sick } = await sixWithTwoUnhealthy(c)
    const log = new RecordingLog()
    const traffic = {
      ...options(w).traffic!,
      minHealthy: { kind: 'count' as const, value: 3 },
      healthTimeoutMs: 1_500
    }

    const result = await runDeploy(c, options(w, { traffic }), makeRuntime({ log }))

    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    for (const id of sick) {
      expect(result.rollout?.results.find((r) => r.instanceId === id)?.status).toBe('Success')
      expect(result.traffic?.hosts.find((h) => h.instanceId === id)?.notServingBefore).toMatch(
        /it was not serving before the deploy either \(see the plan\), so this is not counted as the deploy's failure$/
      )
    }
    expect(log.messages('warning').filter((m) => m.includes('not serving before'))).toHaveLength(2)
  }, 60_000)

  it('fails a bad target group at once while another deploy holds the lock', async () => {
    const c = emulator.clients
    const w = await behindWebTargetGroup(c, 2)
    const other = await acquireDeployLock(
      c.ssm,
      {
        templateId: w.launchTemplateId,
        run: { ...RUN, runId: '100' },
        timeoutMs: 0,
        holdMs: 3_600_000
      },
      makeRuntime({})
    )
    const traffic = { targetGroups: { auto: false, given: ['nope'] } }
    const started = Date.now()

    await expect(
      runDeploy(c, options(w, { traffic }), makeRuntime({ log: new RecordingLog() }))
    ).rejects.toThrow('Setting "targetGroups": "nope" is not a target group in this region.')
    expect(Date.now() - started).toBeLessThan(5_000)
    // The other run's lock is untouched.
    const held = await c.ssm.send(new GetParameterCommand({ Name: lockName(w.launchTemplateId) }))
    expect(parseHolder(held.Parameter?.Value)?.token).toBe(other.token)
  }, 60_000)
})
