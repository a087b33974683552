import { describe, expect, it } from '@jest/globals'
import { ListCommandInvocationsCommand, ListCommandsCommand } from '@aws-sdk/client-ssm'
import { makeRuntime } from '../../src/runtime.js'
import { runRollout, type RolloutOptions } from '../../src/rollout/run.js'
import { runOnHost } from '../../src/ssm/run-on-host.js'
import { launch, tag } from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'
import { RecordingLog } from '../helpers/log.js'
import { rolloutSettings } from '../../support/fixtures.js'

const emulator = useEmulator()

const options = (instanceIds: string[], extra: Partial<RolloutOptions> = {}): RolloutOptions => ({
  ...rolloutSettings({
    script: ['echo deploying'],
    hostTimeoutMs: 60_000,
    deadlineMs: 120_000,
    ...extra
  }),
  instanceIds
})

describe('rollout against the emulator, with the real SDK', () => {
  it('sends to exactly the targets, in waves, and reads every result', async () => {
    const { ec2, ssm } = emulator.clients
    const app = await launch(ec2, 4, { Role: 'app' })
    const other = await launch(ec2, 2, { Role: 'worker' })
    const result = await runRollout(ssm, options(app), makeRuntime({ log: new RecordingLog() }))

    expect(result.ok).toBe(true)
    expect(result.results.map((r) => [r.instanceId, r.status, r.exitCode])).toEqual(
      app.map((id) => [id, 'Success', 0])
    )
    expect(result.commands.map((c) => c.instanceIds)).toEqual([[app[0]], app.slice(1)])
    // Each command reached only the hosts it named: the workers never ran anything.
    for (const c of result.commands) {
      const inv = await ssm.send(new ListCommandInvocationsCommand({ CommandId: c.commandId }))
      expect(inv.CommandInvocations?.map((i) => i.InstanceId).sort()).toEqual(
        [...c.instanceIds].sort()
      )
    }
    const listed = await ssm.send(new ListCommandsCommand({}))
    expect(listed.Commands?.flatMap((c) => c.InstanceIds ?? [])).not.toEqual(
      expect.arrayContaining([other[0]])
    )
    const sent = await ssm.send(
      new ListCommandsCommand({ CommandId: result.commands[1]!.commandId })
    )
    expect(sent.Commands?.[0]?.Parameters?.['commands']).toEqual(['echo deploying'])
    expect(sent.Commands?.[0]?.Parameters?.['executionTimeout']).toEqual(['60'])
  })

  it('reports a failing host and starts no later wave', async () => {
    const { ec2, ssm } = emulator.clients
    const ids = await launch(ec2, 5, { Role: 'app' })
    await tag(ec2, [ids[2]!], { 'emulator:ssm-status': 'Failed' })
    const result = await runRollout(
      ssm,
      options(ids, { maxConcurrency: { kind: 'count', value: 2 } }),
      makeRuntime({ log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(result.results.map((r) => r.status)).toEqual([
      'Success',
      'Success',
      'Failed',
      'Skipped',
      'Skipped'
    ])
    expect(result.results[2]!.stderrTail).toBe('emulated failure (emulator:ssm-status=Failed)')
    expect(result.commands).toHaveLength(2)
  })

  it('runs run-once on the primary after its commands, and only then the other hosts', async () => {
    const { ec2, ssm } = emulator.clients
    const ids = await launch(ec2, 3, { Role: 'app' })
    const result = await runRollout(
      ssm,
      options(ids, { runOnceScript: ['echo migrating'] }),
      makeRuntime({ log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    expect(result.runOnce).toMatchObject({ instanceId: ids[0], status: 'Success' })
    expect(result.commands.map((c) => c.instanceIds)).toEqual([[ids[0]], [ids[0]], ids.slice(1)])
    const scripts: unknown[] = []
    for (const c of result.commands) {
      const out = await ssm.send(new ListCommandsCommand({ CommandId: c.commandId }))
      scripts.push(out.Commands?.[0]?.Parameters?.['commands'])
    }
    expect(scripts).toEqual([['echo deploying'], ['echo migrating'], ['echo deploying']])
  })

  it('refuses to start when an agent is offline or the host is not SSM-managed', async () => {
    const { ec2, ssm } = emulator.clients
    const ids = await launch(ec2, 3, { Role: 'app' })
    await tag(ec2, [ids[1]!], { 'emulator:ssm-ping': 'ConnectionLost' })
    await tag(ec2, [ids[2]!], { 'emulator:ssm-ping': 'none' })
    const result = await runRollout(ssm, options(ids), makeRuntime({ log: new RecordingLog() }))
    expect(result.ok).toBe(false)
    expect(result.commands).toEqual([])
    expect(result.offline.map((o) => [o.instanceId, o.reason.split(' (')[0]])).toEqual([
      [ids[1], 'SSM agent ConnectionLost'],
      [ids[2], 'not SSM-managed']
    ])
    expect((await ssm.send(new ListCommandsCommand({}))).Commands).toEqual([])
  })

  it('runOnHost sends one command and returns its result', async () => {
    const { ec2, ssm } = emulator.clients
    const [id] = await launch(ec2, 1, { Role: 'app' })
    const r = await runOnHost(
      ssm,
      id!,
      ['sync'],
      { purpose: 'sync', timeoutMs: 30_000 },
      makeRuntime()
    )
    expect(r.status).toBe('Success')
    expect(r.exitCode).toBe(0)
  })
})
