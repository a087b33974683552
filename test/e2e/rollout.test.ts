import { describe, expect, it } from '@jest/globals'
import { ListCommandInvocationsCommand, ListCommandsCommand } from '@aws-sdk/client-ssm'
import { launch, sleep, tag, terminate } from '../../support/emulator/world.js'
import { annotations, BUNDLES, runBundle } from '../../support/bundle.js'
import type { JournalEntry } from '../../src/held/journal.js'
import { useEmulator } from '../helpers/emulator.js'

const emulator = useEmulator()
const run = (inputs: Record<string, string>, options: Parameters<typeof runBundle>[3] = {}) =>
  runBundle(BUNDLES.rollout, inputs, emulator.env, options)

async function invocationStatuses(commandId: string): Promise<string[]> {
  const out = await emulator.clients.ssm.send(
    new ListCommandInvocationsCommand({ CommandId: commandId })
  )
  return (out.CommandInvocations ?? []).map((i) => i.Status ?? '')
}

/** The commands the main step journaled for its post step (the runner's STATE_journal). */
function journalCommands(state: Record<string, string>): string[] {
  const entries = JSON.parse(state['journal'] ?? '[]') as JournalEntry[]
  return entries.flatMap((e) => (e.held.kind === 'command' ? [e.held.commandId] : []))
}

describe('the rollout bundle, run as the runner runs it', () => {
  it('deploys to the hosts chosen by tags and reports every one', async () => {
    const { ec2 } = emulator.clients
    const app = await launch(ec2, 3, { Role: 'app', Environment: 'production' })
    await launch(ec2, 2, { Role: 'app', Environment: 'staging' })
    const r = await run({
      tags: 'Role=app\nEnvironment=production',
      commands: 'cd /srv/app\n./bin/deploy',
      env: 'GIT_SHA=0123456789abcdef\nMESSAGE=fix: it\'s "done" $(rm -rf /)'
    })
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(r.outputs['succeeded-instance-ids']!)).toEqual(app)
    expect(JSON.parse(r.outputs['failed-instance-ids']!)).toEqual([])
    expect(r.outputs['primary-instance-id']).toBe(app[0])
    expect(JSON.parse(r.outputs['command-ids']!)).toHaveLength(2)
    expect(JSON.parse(r.outputs['results']!)).toEqual(
      app.map((id) => ({ instanceId: id, status: 'Success', exitCode: 0, durationMs: 1000 }))
    )
    expect(r.summary).toContain('**Succeeded** · 3 host(s): 3 succeeded, 0 failed, 0 skipped')
    expect(r.summary).toContain(`| \`${app[1]}\` | 2 | ✅ Success | 0 | 1s |`)
    expect(r.summary).toContain(
      'https://us-east-1.console.aws.amazon.com/systems-manager/run-command/'
    )
    expect(r.stdout).toContain('3/3 hosts done, 0 failed')
    // The env values arrived quoted, never as code.
    const sent = await emulator.clients.ssm.send(
      new ListCommandsCommand({ CommandId: JSON.parse(r.outputs['command-ids']!)[0] })
    )
    const script = sent.Commands?.[0]?.Parameters?.['commands'] ?? []
    expect(script.slice(0, 2)).toEqual([
      'set -e',
      'if [ -n "${BASH_VERSION:-}" ]; then set -o pipefail; fi'
    ])
    expect(script).toContain("export GIT_SHA='0123456789abcdef'")
    expect(script).toContain(`export MESSAGE='fix: it'\\''s "done" $(rm -rf /)'`)
    // The commands, as written, in the shell of their own the script starts (test/unit/script.test.ts).
    expect(script.join('\n')).toContain("fi\ncd /srv/app\n./bin/deploy'\nexec 3>&1\n")
    expect(r.state['isPost']).toBe('true')
    // The journal keeps only what is still held: every command ended, so nothing.
    expect(JSON.parse(r.outputs['command-ids']!)).toHaveLength(2)
    expect(journalCommands(r.state)).toEqual([])
  })

  it("takes resolve-hosts' JSON output as instance-ids and fails naming the failed host", async () => {
    const { ec2 } = emulator.clients
    const ids = await launch(ec2, 3, { Role: 'app' })
    await tag(ec2, [ids[1]!], { 'emulator:ssm-status': 'Failed' })
    const r = await run({ 'instance-ids': JSON.stringify(ids), commands: './deploy' })
    expect(r.exitCode).toBe(1)
    expect(JSON.parse(r.outputs['failed-instance-ids']!)).toEqual([ids[1]])
    expect(JSON.parse(r.outputs['succeeded-instance-ids']!)).toEqual([ids[0], ids[2]])
    const errors = annotations(r.stdout, 'error')
    expect(errors[0]).toContain(`${ids[1]}: Failed (exit code 1)`)
    expect(errors.at(-1)).toBe(`Rollout failed on 1 host(s): ${ids[1]} (Failed, exit code 1).`)
  })

  it('fails before sending anything when a host is offline, naming it and why', async () => {
    const { ec2 } = emulator.clients
    const ids = await launch(ec2, 2, { Role: 'app' })
    await tag(ec2, [ids[1]!], { 'emulator:ssm-ping': 'ConnectionLost' })
    const r = await run({ tags: 'Role=app', commands: './deploy' })
    expect(r.exitCode).toBe(1)
    expect(JSON.parse(r.outputs['command-ids']!)).toEqual([])
    expect(annotations(r.stdout, 'error').at(-1)).toBe(
      `Rollout failed on 1 host(s): ${ids[1]} (SSM agent ConnectionLost). Stopped: 1 host(s) cannot be reached through SSM (set skip-offline: true to deploy to the others).`
    )
  })

  it('rejects bad input before any AWS call', async () => {
    const bad: Array<[Record<string, string>, string]> = [
      [
        { 'instance-ids': 'i-123, web-1', commands: 'x' },
        'Input "instance-ids": "i-123" is not an instance id'
      ],
      [{ tags: 'Role=app', commands: '' }, 'Input "commands": is empty'],
      [
        { tags: 'Role=app', commands: 'x', 'max-concurrency': '0' },
        'Input "max-concurrency": "0" is too small. Expected at least 1.'
      ],
      [
        { tags: 'Role=app', commands: 'x', timeout: '10 minutes' },
        'Input "timeout": "10 minutes" is not a duration'
      ],
      [
        { tags: 'Role=app', commands: 'x', env: 'GIT SHA=1' },
        'Input "env": line 1: the name before "=" is not a shell variable name.'
      ],
      [
        { tags: 'Role=app', commands: 'x', env: 'A=1\nLD_PRELOAD=/tmp/x.so' },
        'Input "env": line 2 sets LD_PRELOAD, which changes what the dynamic loader loads'
      ],
      [
        { tags: 'Role=app', commands: 'x', 'run-as': 'root; id' },
        'Input "run-as": "root; id" is not a user name.'
      ],
      [
        { tags: 'Role=app', commands: 'x', document: 'AWS-RunPowerShellScript' },
        'Input "document": "AWS-RunPowerShellScript" is a Windows document'
      ],
      [
        { tags: 'Role=app', 'instance-ids': 'i-0123456789abcdef0', commands: 'x' },
        'Input "instance-ids": is set together with tags or asg-name'
      ]
    ]
    for (const [inputs, message] of bad) {
      const r = await run(inputs)
      expect(r.exitCode).toBe(1)
      expect(annotations(r.stdout, 'error')[0]).toContain(message)
    }
    expect((await emulator.clients.ssm.send(new ListCommandsCommand({}))).Commands).toEqual([])
  })

  it('dry-run prints the waves and the script and sends nothing', async () => {
    const { ec2 } = emulator.clients
    const ids = await launch(ec2, 3, { Role: 'app' })
    const r = await run({
      tags: 'Role=app',
      commands: './deploy',
      'dry-run': 'true',
      'max-concurrency': '1'
    })
    expect(r.exitCode).toBe(0)
    // After the canary, the rest runs as a sliding window of max-concurrency hosts.
    expect(r.stdout).toContain(`wave 2 (2 host(s), up to 1 at once): ${ids[1]} ${ids[2]}`)
    expect(r.stdout).toContain('./deploy')
    expect(JSON.parse(r.outputs['skipped-instance-ids']!)).toEqual(ids)
    expect((await emulator.clients.ssm.send(new ListCommandsCommand({}))).Commands).toEqual([])
  })

  it('at the deadline, cancels what still runs and names it', async () => {
    const { ec2 } = emulator.clients
    const ids = await launch(ec2, 2, { Role: 'app' })
    await tag(ec2, [ids[1]!], { 'emulator:ssm-seconds': '60' })
    const r = await run({ tags: 'Role=app', commands: './deploy', timeout: '2s', deadline: '3s' })
    expect(r.exitCode).toBe(1)
    const results = JSON.parse(r.outputs['results']!) as Array<{ status: string; reason?: string }>
    expect(results.map((x) => x.status)).toEqual(['Success', 'Cancelled'])
    expect(results[1]!.reason).toBe('cancelled: the deadline passed')
    const commandIds = JSON.parse(r.outputs['command-ids']!) as string[]
    expect(await invocationStatuses(commandIds[1]!)).toEqual(['Cancelled'])
  })

  it('SIGINT from the runner cancels the running commands before exiting', async () => {
    const { ec2 } = emulator.clients
    const ids = await launch(ec2, 2, { Role: 'app' })
    await tag(ec2, [ids[1]!], { 'emulator:ssm-seconds': '60' })
    const r = await run(
      { tags: 'Role=app', commands: './deploy' },
      { onOutput: { when: 'Starting wave 2', run: (c) => void c.kill('SIGINT') } }
    )
    expect(r.exitCode).toBe(1)
    const commandIds = JSON.parse(r.outputs['command-ids']!) as string[]
    expect(await invocationStatuses(commandIds[1]!)).toEqual(['Cancelled'])
    // Cancelled by the main step itself: its journal holds nothing for the post step.
    expect(journalCommands(r.state)).toEqual([])
    expect(annotations(r.stdout, 'error').at(-1)).toContain('Stopped: the rollout was cancelled.')
  })

  it('if the main step dies, the post step cancels the commands it recorded', async () => {
    const { ec2 } = emulator.clients
    const ids = await launch(ec2, 2, { Role: 'app' })
    await tag(ec2, ids, { 'emulator:ssm-seconds': '60' })
    const inputs = { tags: 'Role=app', commands: './deploy', canary: '0' }
    const main = await run(inputs, {
      onOutput: { when: '0/2 hosts done', run: (c) => void c.kill('SIGKILL') }
    })
    expect(main.exitCode).not.toBe(0)
    await new Promise((r) => setTimeout(r, 300))
    const commandIds = journalCommands(main.state)
    expect(commandIds).toHaveLength(1)
    expect(await invocationStatuses(commandIds[0]!)).toEqual(['InProgress', 'InProgress'])
    const post = await run(inputs, { state: main.state })
    expect(post.exitCode).toBe(0)
    expect(post.stdout).toContain(`Cancelled command ${commandIds[0]}`)
    expect(await invocationStatuses(commandIds[0]!)).toEqual(['Cancelled', 'Cancelled'])
  })

  it('reports a host terminated while its command runs as Terminated and ends long before its timeout', async () => {
    const { ec2 } = emulator.clients
    // Each command runs 30 s; the host timeout is 10 minutes.
    const ids = await launch(ec2, 3, { Role: 'app', 'emulator:ssm-seconds': '30' })
    const victim = ids[2]!
    const started = Date.now()
    const r = await run(
      { 'instance-ids': JSON.stringify(ids), commands: './deploy', canary: '0', timeout: '10m' },
      {
        timeoutMs: 150_000,
        // A spot reclaim a moment into the commands.
        onOutput: {
          when: 'Starting wave 1',
          run: () => sleep(1_000).then(() => terminate(ec2, [victim]))
        }
      }
    )
    const elapsed = Date.now() - started

    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(r.outputs['terminated-instance-ids']!)).toEqual([victim])
    expect(JSON.parse(r.outputs['failed-instance-ids']!)).toEqual([])
    expect(JSON.parse(r.outputs['succeeded-instance-ids']!)).toEqual([ids[0], ids[1]])
    expect(r.summary).toContain(
      '3 host(s): 2 succeeded, 0 failed, 0 skipped, 1 terminated mid-rollout'
    )
    expect(annotations(r.stdout, 'warning').join('\n')).toContain(
      `${victim}: Terminated: the instance is terminated (while its command ran; the command was cancelled)`
    )
    // Its invocation was cancelled: the post step has nothing left to cancel.
    const commandId = JSON.parse(r.outputs['command-ids']!)[0] as string
    const invocations = await emulator.clients.ssm.send(
      new ListCommandInvocationsCommand({ CommandId: commandId, InstanceId: victim })
    )
    expect(invocations.CommandInvocations?.[0]?.Status).toBe('Cancelled')
    // The others' 30 s and one look at the instance states (every 20 s), not the 10-minute timeout.
    expect(elapsed).toBeLessThan(60_000)
  }, 180_000)
})
