/**
 * A host terminated mid-rollout (scale-in, a spot reclaim), against the emulator: the group
 * terminates a member while its command runs and launches a replacement from the old version;
 * SSM keeps the invocation InProgress until the host timeout. The deploy must notice from EC2,
 * report the host Terminated (not failed, even with max-errors 0), publish, catch the
 * replacement up, and end long before the host timeout.
 */
import { describe, expect, it } from '@jest/globals'
import { TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling'
import {
  CancelCommandCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand
} from '@aws-sdk/client-ssm'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { deployVerdict } from '../../src/report/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import {
  codeVolumeWorld,
  type CodeVolumeWorld,
  groupMembers,
  sleep,
  type TestClients
} from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings, RUN } from '../../support/fixtures.js'
import { intercept } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'
import { useEmulator } from '../helpers/emulator.js'
import { defaultSnapshot } from '../helpers/fleet.js'

const emulator = useEmulator()
const FAST = { initialMs: 50, maxMs: 250, factor: 1.5, jitter: 0 }
const HOST_TIMEOUT_MS = 600_000
const TAGS = { Role: 'app', Environment: 'production', 'emulator:ssm-seconds': '2' }

function options(world: CodeVolumeWorld, extra: Partial<DeployOptions> = {}): DeployOptions {
  return deployOptions({
    query: { tags: new Map(), states: ['running'], asgNames: [world.asgName] },
    // max-errors 0 (the fixture's): a terminated host must not count.
    rollout: rolloutSettings({
      script: ['echo deploying'],
      backoff: FAST,
      hostTimeoutMs: HOST_TIMEOUT_MS,
      stateCheckEveryMs: 1_000
    }),
    publish: {
      targets: [{ launchTemplate: world.launchTemplateId, sourceVersion: '$Default' }],
      setDefault: true
    },
    catchUp: { maxRounds: 2, readyTimeoutMs: 10_000 },
    ...extra
  })
}

/**
 * The SSM client; `pick` chooses, from the hosts of each SendCommand, one to terminate through
 * the group (which launches its replacement) half a second into its command. The CancelCommand
 * calls are recorded.
 */
function terminatingOnSend(c: TestClients, pick: (ids: readonly string[]) => string | undefined) {
  const state = { victim: undefined as string | undefined, cancels: [] as unknown[] }
  let terminated: Promise<void> = Promise.resolve()
  const ssm = intercept(c.ssm, async (command, send) => {
    if (command instanceof CancelCommandCommand) state.cancels.push(command.input)
    const out = await send(command)
    const ids = command instanceof SendCommandCommand ? command.input.InstanceIds : undefined
    const victim = !state.victim && ids ? pick(ids) : undefined
    if (victim) {
      state.victim = victim
      terminated = sleep(500).then(async () => {
        await c.autoscaling.send(
          new TerminateInstanceInAutoScalingGroupCommand({
            InstanceId: victim,
            ShouldDecrementDesiredCapacity: false
          })
        )
      })
    }
    return out
  })
  return { ssm, state, terminated: () => terminated }
}

async function invocationStatus(c: TestClients, commandId: string, instanceId: string) {
  const out = await c.ssm.send(
    new ListCommandInvocationsCommand({ CommandId: commandId, InstanceId: instanceId })
  )
  return out.CommandInvocations?.[0]?.Status
}

describe('a host terminated mid-rollout', () => {
  it('is reported Terminated, the deploy publishes, and catch-up deploys its replacement, long before the host timeout', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 4, tags: TAGS })
    const before = await groupMembers(c, world.asgName)
    // A fleet host (not the primary, which runs alone as the canary).
    const { ssm, state, terminated } = terminatingOnSend(c, (ids) =>
      ids.length > 1 ? ids.at(-1) : undefined
    )
    const log = new RecordingLog()

    const started = Date.now()
    const result = await runDeploy({ ...c, ssm }, options(world), makeRuntime({ log }))
    const elapsed = Date.now() - started
    await terminated()

    const victim = state.victim!
    expect(victim).toBeDefined()
    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    // Well before the 10-minute host timeout SSM would have waited for.
    expect(elapsed).toBeLessThan(60_000)

    const rolled = result.rollout!
    const gone = rolled.results.find((r) => r.instanceId === victim)!
    expect(gone.status).toBe('Terminated')
    expect(gone.reason).toMatch(
      /^the instance is (terminated|shutting-down) \(while its command ran/
    )
    expect(rolled.results.filter((r) => r.instanceId !== victim).map((r) => r.status)).toEqual([
      'Success',
      'Success',
      'Success'
    ])
    expect(rolled.stoppedReason).toBeUndefined()
    // Its command was cancelled on that host alone: the post step finds nothing running.
    expect(state.cancels).toEqual([{ CommandId: gone.commandId, InstanceIds: [victim] }])
    expect(await invocationStatus(c, gone.commandId!, victim)).toBe('Cancelled')

    // The group replaced it from the old version; catch-up gave the replacement the new code.
    const now = await groupMembers(c, world.asgName)
    const replacement = now.filter((id) => !before.includes(id))
    expect(replacement).toHaveLength(1)
    expect(now).not.toContain(victim)
    expect(result.catchUp?.caughtUp).toEqual(replacement)
    expect(result.catchUp?.failed).toEqual([])
    const caughtUp = result.catchUp!.rollouts[0]!.results[0]!
    expect(caughtUp).toMatchObject({ instanceId: replacement[0], status: 'Success' })
    expect(await invocationStatus(c, caughtUp.commandId!, replacement[0]!)).toBe('Success')

    expect(deployVerdict(result, RUN)).toMatch(
      /to 3 host\(s\) \(1 terminated mid-rollout\) and caught up 1 launched meanwhile/
    )

    // The template's default boots the new snapshot.
    expect(result.publish?.snapshot.snapshotId).toBeDefined()
    expect(await defaultSnapshot(c, world.launchTemplateId)).toBe(
      result.publish!.snapshot.snapshotId
    )
    expect(log.lines).toContainEqual(
      expect.objectContaining({ level: 'warning', title: `Host terminated mid-rollout: ${victim}` })
    )
  }, 90_000)

  it('terminated while it waited for its turn: SendCommand refuses the batch, the host is Terminated, the rest deployed', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 4, tags: TAGS })
    const before = await groupMembers(c, world.asgName)
    // Terminated during the canary (the primary alone, 2 s), before the fleet's send.
    const { ssm, state, terminated } = terminatingOnSend(c, (ids) =>
      ids.length === 1 ? before.filter((id) => id !== ids[0]).at(-1) : undefined
    )

    const result = await runDeploy({ ...c, ssm }, options(world), makeRuntime())
    await terminated()

    const victim = state.victim!
    expect(result.failure?.message).toBeUndefined()
    const rolled = result.rollout!
    expect(rolled.results.find((r) => r.instanceId === victim)).toMatchObject({
      status: 'Terminated',
      reason: expect.stringMatching(/before its command was sent/) as unknown
    })
    expect(rolled.results.filter((r) => r.instanceId !== victim).map((r) => r.status)).toEqual([
      'Success',
      'Success',
      'Success'
    ])
    expect(state.cancels).toEqual([])
    const replacement = (await groupMembers(c, world.asgName)).filter((id) => !before.includes(id))
    expect(result.catchUp?.caughtUp).toEqual(replacement)
    expect(await defaultSnapshot(c, world.launchTemplateId)).toBe(
      result.publish!.snapshot.snapshotId
    )
  }, 90_000)
})
