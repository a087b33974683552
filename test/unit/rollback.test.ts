/** rollback-commands after a failed rollout, over the simulated SSM fleet. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import {
  describeRollback,
  commandsRollback,
  rollBack,
  type RollbackSettings
} from '../../src/rollout/rollback.js'
import { runRollout, type RolloutOptions } from '../../src/rollout/run.js'
import { makeRuntime } from '../../src/runtime.js'
import { rolloutSettings } from '../../support/fixtures.js'
import { SimulatedFleet } from '../../support/ssm-fleet.js'
import { VirtualClock } from '../../support/virtual-clock.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'

const ssmMock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'us-east-1' })

const settings = (): Omit<RolloutOptions, 'instanceIds'> =>
  rolloutSettings({
    script: ['./deploy.sh'],
    runOnceScript: ['./migrate.sh'],
    maxConcurrency: { kind: 'count', value: 2 }
  })
const ROLLBACK: RollbackSettings = {
  commands: './rollback.sh',
  script: { env: [['APP', 'shop']], runAs: 'deploy', logName: 'run-1-rollback' }
}
const PREVIOUS = { commit: 'abc1234', snapshotId: 'snap-0123456789abcdef0' }

describe('rollback after a failed rollout', () => {
  let clock: VirtualClock
  let log: RecordingLog
  beforeEach(() => {
    ;({ clock, log } = freshRun(ssmMock))
  })

  it('runs on every host that started (the failed one too), with where it returns to', async () => {
    const ids = SimulatedFleet.ids(6)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[2]!, {
      outcome: 'Failed',
      exitCode: 1,
      scripts: { 'rollback.sh': { outcome: 'Success', exitCode: 0 } }
    })
    const runtime = makeRuntime({ clock, log })
    const rolled = await runRollout(ssm, { ...settings(), instanceIds: ids }, runtime)
    expect(rolled.ok).toBe(false)
    const sentBefore = fleet.commands.length

    const r = await rollBack(ssm, rolled, settings(), commandsRollback(ROLLBACK, PREVIOUS), runtime)

    // The primary, then hosts 2 and 3 in the window; 4-6 never started.
    expect(r.instanceIds).toEqual(ids.slice(0, 3))
    expect(r.rolledBack).toEqual(ids.slice(0, 3))
    expect(r.failed).toEqual([])
    const rollbacks = fleet.commands.slice(sentBefore)
    expect(rollbacks.flatMap((c) => c.instanceIds).sort()).toEqual(ids.slice(0, 3))
    const script = fleet.scriptsFor(ids[2]!).at(-1)!
    expect(script).toContain("export APP='shop'")
    expect(script).toContain("export EBS_AUTOSCALE_PREVIOUS_COMMIT='abc1234'")
    expect(script).toContain("export EBS_AUTOSCALE_PREVIOUS_SNAPSHOT='snap-0123456789abcdef0'")
    expect(script).toContain('./rollback.sh')
    expect(script).not.toContain('./migrate.sh')
    expect(script).toContain('run-1-rollback')
    for (const id of ids.slice(3)) expect(fleet.scriptsFor(id)).toEqual([])
    expect(describeRollback(r)).toBe(' Rolled back 3 of 3 host(s) to abc1234.')
  })

  it('names a host whose rollback failed loudly, and still rolls back the others', async () => {
    const ids = SimulatedFleet.ids(3)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[1]!, { outcome: 'Failed', exitCode: 1 })
    const runtime = makeRuntime({ clock, log })
    const rolled = await runRollout(
      ssm,
      { ...settings(), runOnceScript: undefined, instanceIds: ids },
      runtime
    )

    const r = await rollBack(ssm, rolled, settings(), commandsRollback(ROLLBACK, PREVIOUS), runtime)

    expect(r.instanceIds).toEqual(ids)
    expect(r.rolledBack).toEqual([ids[0], ids[2]])
    expect(r.failed.map((f) => f.instanceId)).toEqual([ids[1]])
    expect(log.lines.filter((l) => l.title === 'Rollback failed').map((l) => l.message)).toEqual([
      `${ids[1]}: the rollback did not succeed (Failed); it may serve neither release. Check it by hand or replace it.`
    ])
    expect(describeRollback(r)).toBe(
      ` Rolled back 2 of 3 host(s) to abc1234. The rollback FAILED on ${ids[1]}: they may serve neither release.`
    )
  })

  it('does not run after a cancellation', async () => {
    const ids = SimulatedFleet.ids(2)
    const fleet = new SimulatedFleet(clock, ids).mock(ssmMock)
    fleet.setHost(ids[1]!, { outcome: 'Failed', exitCode: 1 })
    const abort = new AbortController()
    const rolled = await runRollout(
      ssm,
      { ...settings(), runOnceScript: undefined, instanceIds: ids },
      makeRuntime({ clock, log })
    )
    const sent = fleet.commands.length
    abort.abort()
    const r = await rollBack(
      ssm,
      rolled,
      settings(),
      commandsRollback(ROLLBACK, PREVIOUS),
      makeRuntime({ clock, log, signal: abort.signal })
    )
    expect(r.notRun).toBe('the run was cancelled')
    expect(fleet.commands).toHaveLength(sent)
  })
})
