/**
 * Two deploys of one launch template started together: the deploy lock (an SSM parameter
 * created without overwrite, modelled here as a store whose create fails when the name exists)
 * makes the second wait for the first, then read the default version the first left. The end
 * state is what matters: the default boots the snapshot of the deploy that published last, and
 * every host got that deploy's commands last.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeleteParameterCommand,
  GetParameterCommand,
  PutParameterCommand
} from '@aws-sdk/client-ssm'
import { mockAws, scriptedFleet } from '../../support/scripted-deploy.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { lockName } from '../../src/lock/deploy-lock.js'
import { makeRuntime } from '../../src/runtime.js'
import { RecordingLog } from '../helpers/log.js'
import { SimulatedEc2, TEMPLATE_ID } from '../../support/ec2-world.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'
import { deployOptions, rolloutSettings, RUN } from '../../support/fixtures.js'

const aws = mockAws()
const { ssmMock, clients } = aws
const IDS = SimulatedFleet.ids(3)
const LOCK = { timeoutMs: 3_600_000, holdMs: 7_200_000 }

/** SSM parameters as AWS keeps them: PutParameter without Overwrite fails on an existing name. */
function mockParameters(): Map<string, string> {
  const store = new Map<string, string>()
  ssmMock
    .on(PutParameterCommand)
    .callsFake((input: { Name: string; Value: string; Overwrite?: boolean }) => {
      if (store.has(input.Name) && !input.Overwrite)
        throw Object.assign(new Error('exists'), { name: 'ParameterAlreadyExists' })
      store.set(input.Name, input.Value)
      return { Version: 1 }
    })
  ssmMock.on(GetParameterCommand).callsFake((input: { Name: string }) => {
    const value = store.get(input.Name)
    if (value === undefined) throw Object.assign(new Error('none'), { name: 'ParameterNotFound' })
    return { Parameter: { Name: input.Name, Value: value } }
  })
  ssmMock.on(DeleteParameterCommand).callsFake((input: { Name: string }) => {
    if (!store.delete(input.Name))
      throw Object.assign(new Error('none'), { name: 'ParameterNotFound' })
    return {}
  })
  return store
}

describe('two deploys of one launch template at the same time', () => {
  let clock: VirtualClock
  let world: SimulatedEc2
  let fleet: SimulatedFleet
  let parameters: Map<string, string>
  beforeEach(() => {
    ;({ clock, world, fleet } = scriptedFleet(aws, {
      ids: IDS,
      commandMs: 60_000,
      snapshotMs: 90_000
    }))
    parameters = mockParameters()
  })

  const deploy = (runId: string, script: string, log: RecordingLog) =>
    runDeploy(
      clients,
      deployOptions({
        rollout: rolloutSettings({ script: [script] }),
        snapshot: { ...deployOptions().snapshot, run: { ...RUN, runId } },
        lock: LOCK
      }),
      makeRuntime({ clock, log })
    )

  it('the second waits for the first, then deploys and publishes on top of it', async () => {
    const logA = new RecordingLog()
    const logB = new RecordingLog()
    const [a, b] = await Promise.all([
      deploy('100', './deploy-a', logA),
      deploy('200', './deploy-b', logB)
    ])
    expect(a.ok).toBe(true)
    expect(b.ok).toBe(true)
    // Started together, the second found the lock held by the first and waited.
    expect(logB.messages('info').find((m) => m.startsWith('Waiting for the deploy lock'))).toMatch(
      `Waiting for the deploy lock of ${TEMPLATE_ID}: held by https://github.com/acme/shop/actions/runs/100`
    )
    // It read the default only after the first had published: no "default moved" failure.
    expect(a.publish?.targets[0]?.published?.version).toBe(2)
    expect(b.publish?.targets[0]?.published?.previousDefaultVersion).toBe(2)
    expect(b.publish?.targets[0]?.published?.version).toBe(3)
    // End state: the default boots the last deploy's snapshot...
    expect(world.defaultVersion).toBe(3)
    const mapping = world.versions[2]!.data.BlockDeviceMappings?.[0]
    expect(mapping?.Ebs?.SnapshotId).toBe(b.publish!.snapshot.snapshotId)
    // ...and every host got that deploy's commands last, none of them overlapping the first's.
    for (const id of IDS) expect(fleet.scriptFor(id)).toContain('./deploy-b')
    const sentByA = fleet.commands.filter((c) => JSON.stringify(c.input).includes('./deploy-a'))
    const sentByB = fleet.commands.filter((c) => JSON.stringify(c.input).includes('./deploy-b'))
    expect(sentByA.length).toBeGreaterThan(0)
    expect(Math.min(...sentByB.map((c) => c.sentAt))).toBeGreaterThanOrEqual(
      Math.max(...sentByA.map((c) => c.sentAt)) + 60_000
    )
    // Both released their lock; nothing is left behind.
    expect(a.settled.map((r) => r.outcome)).toContain(
      `Released the deploy lock ${lockName(TEMPLATE_ID)}.`
    )
    expect(parameters.size).toBe(0)
    // The second's lock is stamped when it took it: it holds it for its whole deadline from then.
    const taken = (runId: string) =>
      ssmMock
        .commandCalls(PutParameterCommand)
        .map((call) => JSON.parse(call.args[0].input.Value!) as Record<string, string>)
        .filter((v) => v.runId === runId)
        .at(-1)!
    const [lockA, lockB] = [taken('100'), taken('200')]
    expect(Date.parse(lockB.startedAt!)).toBeGreaterThanOrEqual(
      Date.parse(lockA.startedAt!) + 150_000
    )
    expect(Date.parse(lockB.expiresAt!) - Date.parse(lockB.startedAt!)).toBe(LOCK.holdMs)
  })

  it('with lock-timeout 0 the second fails at once, naming the holder, and changes nothing', async () => {
    const [a, b] = await Promise.allSettled([
      deploy('100', './deploy-a', new RecordingLog()),
      runDeploy(
        clients,
        deployOptions({
          rollout: rolloutSettings({ script: ['./deploy-b'] }),
          snapshot: { ...deployOptions().snapshot, run: { ...RUN, runId: '200' } },
          lock: { ...LOCK, timeoutMs: 0 }
        }),
        makeRuntime({ clock, log: new RecordingLog() })
      )
    ])
    expect(a.status).toBe('fulfilled')
    expect(b.status).toBe('rejected')
    expect(String((b as PromiseRejectedResult).reason)).toMatch(
      /holds the lock of launch template .*actions\/runs\/100 .*aws ssm delete-parameter --name \/ebs-autoscale\/lock\//
    )
    for (const id of IDS) expect(fleet.scriptFor(id)).toContain('./deploy-a')
    expect(world.defaultVersion).toBe(2)
  })

  it('dry run says who holds the lock and takes nothing', async () => {
    parameters.set(
      lockName(TEMPLATE_ID),
      JSON.stringify({
        token: 't',
        repository: 'acme/shop',
        runId: '9',
        runAttempt: '1',
        runUrl: 'https://github.com/acme/shop/actions/runs/9',
        sha: RUN.sha,
        startedAt: new Date(clock.now()).toISOString(),
        expiresAt: new Date(clock.now() + 60_000).toISOString()
      })
    )
    const result = await runDeploy(
      clients,
      deployOptions({ lock: LOCK, dryRun: true, rollout: rolloutSettings({ dryRun: true }) }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.locks).toEqual([
      expect.stringMatching(
        `^Dry run: the deploy lock of ${TEMPLATE_ID} is held by https://github.com/acme/shop/actions/runs/9 .*would wait up to lock-timeout`
      )
    ])
    expect(parameters.get(lockName(TEMPLATE_ID))).toContain('"token":"t"')
  })
})
