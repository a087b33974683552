/**
 * Two deploys over overlapping sets of launch templates (web+worker, worker+web) start at once.
 * Each takes the lock of every template it publishes to; taken in one order (by id), the second
 * waits for the first and both end. Taken in the order each run names them, each would hold
 * one lock and wait for the other's: both would fail at lock-timeout.
 */
import { describe, expect, it } from '@jest/globals'
import { CreateLaunchTemplateCommand } from '@aws-sdk/client-ec2'
import { PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm'
import type { DeployContext } from '../../src/deploy/context.js'
import { lockTemplates } from '../../src/deploy/lock.js'
import { LockKeepers } from '../../src/held/lock-keeper.js'
import { freeDeployLock, type HeldLock } from '../../src/lock/deploy-lock.js'
import { makeRuntime } from '../../src/runtime.js'
import { IMAGE_ID, sleep, type TestClients } from '../../support/emulator/world.js'
import { RUN } from '../../support/fixtures.js'
import { useEmulator } from '../helpers/emulator.js'
import { intercept } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()

async function template(c: TestClients, name: string): Promise<string> {
  const out = await c.ec2.send(
    new CreateLaunchTemplateCommand({
      LaunchTemplateName: name,
      LaunchTemplateData: { ImageId: IMAGE_ID, InstanceType: 't3.micro' }
    })
  )
  return out.LaunchTemplate!.LaunchTemplateId!
}

/**
 * Widens the race: once a run holds its first lock, it pauses until the other run holds its
 * own first lock too (or 1.5 s passed), so both are inside lockTemplates at the same moment.
 */
function racing(c: TestClients) {
  const first: Record<string, boolean> = {}
  const ssmFor = (runId: string, other: string): SSMClient =>
    intercept(c.ssm, async (command, send) => {
      const out = await send(command)
      if (command instanceof PutParameterCommand && !first[runId]) {
        first[runId] = true
        for (let waited = 0; !first[other] && waited < 1500; waited += 50) await sleep(50)
      }
      return out
    })
  return ssmFor
}

/** What lockTemplates reads of a deploy, and the locks it took. */
function deployRun(c: TestClients, ssm: SSMClient, runId: string) {
  const held: HeldLock[] = []
  const run = {
    clients: { ...c, ssm },
    options: {
      lock: { timeoutMs: 8_000, holdMs: 3_600_000 },
      dryRun: false,
      snapshot: { run: { ...RUN, runId } }
    },
    runtime: makeRuntime({ log: new RecordingLog() }),
    journal: {
      take: (lock: HeldLock & { kind: 'lock' }) => held.push(lock),
      attach: () => undefined,
      flush: async () => undefined
    },
    keepers: new LockKeepers()
  }
  return { run: run as unknown as DeployContext, held, locks: [] as string[] }
}

describe('the deploy locks of several templates', () => {
  it('are taken in id order, so two deploys naming them in opposite orders both end', async () => {
    const c = emulator.clients
    const web = await template(c, 'web-lt')
    const worker = await template(c, 'worker-lt')
    const ssmFor = racing(c)
    const a = deployRun(c, ssmFor('101', '202'), '101')
    const b = deployRun(c, ssmFor('202', '101'), '202')

    // Each run releases its locks as soon as it holds them all (its deploy "ends").
    const takeAndRelease = async (r: typeof a, templates: string[]) => {
      r.locks.push(...(await lockTemplates(r.run, templates)))
      for (const lock of r.held) await freeDeployLock(c.ssm, lock)
      return r.held.map((l) => l.templateId)
    }
    const results = await Promise.allSettled([
      takeAndRelease(a, [web, worker]),
      takeAndRelease(b, [worker, web])
    ])

    const sorted = [web, worker].sort()
    expect(results).toEqual([
      { status: 'fulfilled', value: sorted },
      { status: 'fulfilled', value: sorted }
    ])
    for (const r of [a, b]) {
      expect(r.locks).toEqual(sorted.map((id) => `Held the deploy lock /ebs-autoscale/lock/${id}.`))
    }
  }, 30_000)
})
