/**
 * Alarms and bake time (issue 18, parts 1, 2 and 5) against the emulator: moto's CloudWatch
 * (PutMetricAlarm, SetAlarmState, DescribeAlarms) and hosts whose commands take seconds.
 */
import { describe, expect, it } from '@jest/globals'
import { PutMetricAlarmCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch'
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2'
import { ListCommandsCommand, SendCommandCommand } from '@aws-sdk/client-ssm'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import {
  codeVolumeWorld,
  type CodeVolumeWorld,
  tag,
  type TestClients
} from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings } from '../../support/fixtures.js'
import { FAST } from '../helpers/deploy-options.js'
import { useEmulator } from '../helpers/emulator.js'
import { intercept } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()
const ALARM = 'shop-production-5xx'

async function putAlarm(c: TestClients, name = ALARM): Promise<void> {
  await c.cloudwatch.send(
    new PutMetricAlarmCommand({
      AlarmName: name,
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'HTTPCode_Target_5XX_Count',
      Statistic: 'Sum',
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 5,
      ComparisonOperator: 'GreaterThanThreshold'
    })
  )
}

const raise = (c: TestClients, name = ALARM) =>
  c.cloudwatch.send(
    new SetAlarmStateCommand({
      AlarmName: name,
      StateValue: 'ALARM',
      StateReason: 'Threshold Crossed: 1 datapoint [12.0] > 5.0'
    })
  )

function options(w: CodeVolumeWorld, extra: Partial<DeployOptions> = {}): DeployOptions {
  return deployOptions({
    query: { tags: new Map(), states: ['running'], asgNames: [w.asgName] },
    rollout: rolloutSettings({
      script: ['echo deploying'],
      backoff: FAST,
      maxConcurrency: { kind: 'count', value: 1 }
    }),
    publish: { targets: [{ sourceVersion: '$Default', groups: [w.asgName] }], setDefault: true },
    catchUp: { maxRounds: 0, readyTimeoutMs: 10_000 },
    lock: { timeoutMs: 30_000, holdMs: 3_600_000 },
    rollback: { commands: './rollback', script: {} },
    alarms: { names: [ALARM], insufficientData: 'ok' },
    ...extra
  })
}

/** The SSM client, calling `after(n)` once the n-th SendCommand returned. */
function onSend(c: TestClients, after: (n: number) => Promise<unknown>) {
  const sent: string[][] = []
  const ssm = intercept(c.ssm, async (command, send) => {
    const out: unknown = await send(command)
    if (command instanceof SendCommandCommand) {
      sent.push([...(command.input.InstanceIds ?? [])])
      await after(sent.length)
    }
    return out
  })
  return { ssm, sent }
}

async function defaultVersion(c: TestClients, templateId: string): Promise<number | undefined> {
  const out = await c.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: templateId,
      Versions: ['$Default']
    })
  )
  return out.LaunchTemplateVersions?.[0]?.VersionNumber
}

describe('alarms and bake time in the deploy', () => {
  it('an alarm raised mid-rollout: no host starts after it, the deployed ones roll back, nothing is published', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { size: 4 })
    await tag(c.ec2, w.instanceIds, { 'emulator:ssm-seconds': '3' })
    await putAlarm(c)
    // Raised right after the second host's command went out, while it runs.
    const { ssm, sent } = onSend(c, (n) => (n === 2 ? raise(c) : Promise.resolve()))
    const log = new RecordingLog()

    const result = await runDeploy({ ...c, ssm }, options(w), makeRuntime({ log }))

    expect(result.ok).toBe(false)
    const started = result.rollout!.results.filter((r) => r.status !== 'Skipped')
    expect(started.map((r) => r.instanceId)).toEqual(sent[0]!.concat(sent[1]!))
    // Sends 1 and 2 deployed; 3 and later are the rollback's (never a new deploy).
    const rollbackIds = result.rollback!.rollout!.commands.map((cmd) => cmd.instanceIds).flat()
    expect(sent.slice(2).flat().sort()).toEqual([...rollbackIds].sort())
    expect(result.rollback?.rolledBack.sort()).toEqual(started.map((r) => r.instanceId).sort())
    expect(result.rollout!.stoppedReason).toMatch(
      /^alarm "shop-production-5xx" is in ALARM since .*: Threshold Crossed: 1 datapoint \[12.0\] > 5.0$/
    )
    expect(result.failure?.message).toContain('The rollout failed (alarm "shop-production-5xx"')
    expect(result.failure?.message).toContain(`Rolled back 2 of 2 host(s)`)
    expect(result.alarms?.fired?.name).toBe(ALARM)
    expect(result.publish?.targets[0]?.published).toBeUndefined()
    expect(await defaultVersion(c, w.launchTemplateId)).toBe(1)
  }, 60_000)

  it('an alarm already firing refuses the deploy before any change', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { size: 2 })
    await putAlarm(c)
    await raise(c)

    await expect(
      runDeploy(c, options(w), makeRuntime({ log: new RecordingLog() }))
    ).rejects.toThrow(
      /^Not deploying: alarm "shop-production-5xx" is in ALARM since .*: Threshold Crossed: 1 datapoint \[12.0\] > 5.0. Nothing was changed; deploy once the alarm is OK.$/
    )
    const commands = await c.ssm.send(new ListCommandsCommand({}))
    expect(commands.Commands ?? []).toEqual([])
    expect(await defaultVersion(c, w.launchTemplateId)).toBe(1)
  })

  it('an alarm that does not exist refuses the deploy before any change, naming it', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { size: 2 })
    await putAlarm(c)
    const alarms = { names: [ALARM, 'shop-production-latency'], insufficientData: 'ok' as const }

    await expect(
      runDeploy(c, options(w, { alarms }), makeRuntime({ log: new RecordingLog() }))
    ).rejects.toThrow('CloudWatch has no alarm named "shop-production-latency" in this region.')
    expect((await c.ssm.send(new ListCommandsCommand({}))).Commands ?? []).toEqual([])
  })

  it('waits the bake time after the canary and after the last host, then publishes', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { size: 3 })
    await putAlarm(c)
    const sendTimes: number[] = []
    const { ssm } = onSend(c, async () => sendTimes.push(Date.now()))

    const result = await runDeploy(
      { ...c, ssm },
      options(w, { bakeTimeMs: 1_500 }),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(result.ok).toBe(true)
    expect(result.alarms?.bakes.map((b) => [b.after, b.stoppedBy])).toEqual([
      ['after the canary', undefined],
      ['after the last host', undefined]
    ])
    for (const b of result.alarms!.bakes) expect(b.waitedMs).toBeGreaterThanOrEqual(1_500)
    // The first host after the canary went out only once the bake was over.
    expect(sendTimes[1]! - sendTimes[0]!).toBeGreaterThanOrEqual(1_500)
    expect(await defaultVersion(c, w.launchTemplateId)).toBe(2)
  }, 60_000)

  it('ends the bake early when an alarm fires during it, and rolls the canary back', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { size: 3 })
    await putAlarm(c)
    const { ssm, sent } = onSend(c, async (n) => {
      if (n === 1) setTimeout(() => void raise(c), 1_000)
    })

    const started = Date.now()
    const result = await runDeploy(
      { ...c, ssm },
      options(w, { bakeTimeMs: 60_000 }),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(Date.now() - started).toBeLessThan(30_000)
    expect(result.ok).toBe(false)
    const [canaryBake] = result.alarms!.bakes
    expect(canaryBake?.after).toBe('after the canary')
    expect(canaryBake?.stoppedBy).toMatch(/^alarm "shop-production-5xx" is in ALARM/)
    expect(canaryBake!.waitedMs).toBeLessThan(60_000)
    // Only the canary deployed; the second send is its rollback.
    expect(sent).toHaveLength(2)
    expect(result.rollback?.rolledBack).toEqual(sent[0])
    expect(await defaultVersion(c, w.launchTemplateId)).toBe(1)
  }, 60_000)
})
