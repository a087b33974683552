/**
 * The deploy bundle behind a target group, run as the runner runs it, against the emulator's
 * ELBv2 (draining, initial, failing health checks): every host deploys out of service and
 * comes back healthy; a failed health gate rolls back to the release the template's default
 * mapped; a cancelled deploy leaves every host registered.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand
} from '@aws-sdk/client-ec2'
import { ListCommandInvocationsCommand, ListCommandsCommand } from '@aws-sdk/client-ssm'
import {
  behindTargetGroups,
  sleep,
  tag,
  targetStates,
  type TargetGroupWorld
} from '../../support/emulator/world.js'
import { resolveHosts } from '../../src/hosts/resolve.js'
import { annotations, BUNDLES, runBundle } from '../../support/bundle.js'
import { useEmulator } from '../helpers/emulator.js'
import { healthyWaveRow, watchTraffic } from '../helpers/traffic-watch.js'

const emulator = useEmulator()
const PREVIOUS_COMMIT = 'feedfacefeedfacefeedfacefeedfacefeedface'

/** 50 s delay x 0.01: half a second of draining; 10 s x 2 checks x 0.01: 0.2 s initial. */
async function world(size: number): Promise<TargetGroupWorld> {
  const w = await behindTargetGroups(emulator.clients, {
    size,
    targetGroups: [{ name: 'web', deregistrationDelaySeconds: 50 }]
  })
  // Each command runs a second, so the watcher sees every host while it runs.
  await tag(emulator.clients.ec2, w.instanceIds, { 'emulator:ssm-seconds': '1' })
  return w
}

async function defaultVersion(id: string): Promise<number | undefined> {
  const out = await emulator.clients.ec2.send(
    new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] })
  )
  return out.LaunchTemplates?.[0]?.DefaultVersionNumber
}

/** The scripts of the commands sent, with the hosts each went to. */
async function sentScripts(): Promise<Array<{ hosts: string[]; script: string }>> {
  const out = await emulator.clients.ssm.send(new ListCommandsCommand({}))
  return (out.Commands ?? []).map((c) => ({
    hosts: c.InstanceIds ?? [],
    script: (c.Parameters?.['commands'] ?? []).join('\n')
  }))
}

describe('the deploy bundle behind a target group', () => {
  it('deploys every host out of service, keeps min-healthy in service, and brings all back healthy', async () => {
    const w = await world(3)
    const arn = w.targetGroups[0]!.arn
    const watch = watchTraffic(emulator.clients, [arn])
    const r = await runBundle(
      BUNDLES.deploy,
      { 'asg-name': w.asgName, commands: './bin/deploy', 'rollback-commands': './bin/rollback' },
      emulator.env
    )
    const seen = await watch.stop()
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)

    const hosts = JSON.parse(r.outputs['instance-ids']!) as string[]
    expect([...hosts].sort()).toEqual([...w.instanceIds].sort())
    expect(JSON.parse(r.outputs['succeeded-instance-ids']!)).toEqual(hosts)
    expect(JSON.parse(r.outputs['failed-instance-ids']!)).toEqual([])
    expect(JSON.parse(r.outputs['rolled-back-instance-ids']!)).toEqual([])
    expect(r.outputs['launch-template-version']).toBe('2')
    expect(await defaultVersion(w.launchTemplateId)).toBe(2)

    // Every host was seen running its commands, and each time it was out of the target group.
    expect([...seen.whileRunning.keys()].sort()).toEqual([...hosts].sort())
    for (const [host, states] of seen.whileRunning)
      expect([host, [...new Set(states)]]).toEqual([host, ['absent']])
    // Default min-healthy: two thirds of 3 stay healthy throughout.
    expect(seen.samples).toBeGreaterThan(10)
    expect(seen.fewestHealthy).toBe(2)
    const after = await targetStates(emulator.clients, arn)
    expect(Object.keys(after).sort()).toEqual([...hosts].sort())
    for (const s of Object.values(after)) expect(s.state).toBe('healthy')

    // Per wave: one host each, its time out of service, the drain and the health wait.
    expect(r.summary).toContain('### Load balancer')
    expect(r.summary).toContain(
      '| Wave | Hosts | Out of service | Drain | Health wait | Health gate |'
    )
    // Wave 1 the canary (the primary), wave 2 the others one at a time (a sliding window).
    expect(r.summary).toMatch(healthyWaveRow(1, 1))
    expect(r.summary).toMatch(healthyWaveRow(2, 2))
  })

  it('a host failing its health check: the step fails naming it, every started host rolls back to the previous release', async () => {
    const { ec2 } = emulator.clients
    const w = await world(4)
    const arn = w.targetGroups[0]!.arn
    // The first host of wave 2 (the canary is the first in the stable order): it leaves with
    // the next one while every target is healthy, and breaks once wave 2 starts, as its
    // deploy would break it. One broken earlier would leave 3 healthy targets, and the floor
    // would rightly keep the next pair from leaving together.
    const { hosts } = await resolveHosts(emulator.clients, {
      tags: new Map(),
      states: ['running'],
      asgNames: [w.asgName]
    })
    const broken = hosts[1]!.instanceId
    // The release the template's default maps today, as an earlier deploy tagged it.
    await ec2.send(
      new CreateTagsCommand({
        Resources: [w.initialSnapshotId],
        Tags: [{ Key: 'ebs-autoscale:commit', Value: PREVIOUS_COMMIT }]
      })
    )
    const r = await runBundle(
      BUNDLES.deploy,
      {
        'asg-name': w.asgName,
        commands: './bin/deploy',
        'rollback-commands': './bin/rollback "$EBS_AUTOSCALE_PREVIOUS_COMMIT"',
        env: 'APP=shop',
        'min-healthy': '2',
        'health-timeout': '2s'
      },
      emulator.env,
      {
        onOutput: [
          {
            // Broken by the deploy (healthy before it: the plan counted it serving).
            when: 'Starting wave 2',
            run: async () => {
              await tag(ec2, [broken], { 'emulator:health': 'Target.ResponseCodeMismatch' })
            }
          },
          {
            // The old release answers its health checks again once rolled back.
            when: 'Rolling back',
            run: async () => {
              await ec2.send(
                new DeleteTagsCommand({ Resources: [broken], Tags: [{ Key: 'emulator:health' }] })
              )
            }
          }
        ]
      }
    )
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(1)

    const errors = annotations(r.stdout, 'error')
    expect(errors.join('\n')).toContain(
      `${broken} not healthy in target group web after 2s: unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])`
    )
    expect(JSON.parse(r.outputs['failed-instance-ids']!)).toEqual([broken])
    const started = (
      JSON.parse(r.outputs['results']!) as Array<{ instanceId: string; status: string }>
    )
      .filter((h) => h.status !== 'Skipped')
      .map((h) => h.instanceId)
    expect(started).toContain(broken)
    expect(JSON.parse(r.outputs['rolled-back-instance-ids']!)).toEqual(started)
    expect(errors.at(-1)).toContain(
      `Rolled back ${started.length} of ${started.length} host(s) to ${PREVIOUS_COMMIT}.`
    )

    // Each started host got the rollback once, with the deploy's env and where it returns to.
    const rollbacks = (await sentScripts()).filter((s) => s.script.includes('./bin/rollback'))
    expect(rollbacks.flatMap((s) => s.hosts).sort()).toEqual([...started].sort())
    for (const { script } of rollbacks) {
      expect(script).toContain("export APP='shop'")
      expect(script).toContain(`export EBS_AUTOSCALE_PREVIOUS_COMMIT='${PREVIOUS_COMMIT}'`)
      expect(script).toContain(`export EBS_AUTOSCALE_PREVIOUS_SNAPSHOT='${w.initialSnapshotId}'`)
    }

    // Nothing published; every host registered and healthy again.
    expect(r.outputs['launch-template-version']).toBe('')
    expect(await defaultVersion(w.launchTemplateId)).toBe(1)
    const versions = await ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: w.launchTemplateId })
    )
    expect(versions.LaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([1])
    const after = await targetStates(emulator.clients, arn)
    expect(Object.keys(after).sort()).toEqual([...w.instanceIds].sort())
    for (const s of Object.values(after)) expect(s.state).toBe('healthy')
  })

  it('cancelled while a wave is out of service: every host registered again, the step failed, the summary written', async () => {
    const w = await world(3)
    const arn = w.targetGroups[0]!.arn
    await tag(emulator.clients.ec2, w.instanceIds, { 'emulator:ssm-seconds': '3' })
    let outAtCancel: string[] = []
    const r = await runBundle(
      BUNDLES.deploy,
      { 'asg-name': w.asgName, commands: './bin/deploy', 'rollback-commands': './bin/rollback' },
      emulator.env,
      {
        onOutput: {
          when: 'Starting wave 2',
          run: async (child) => {
            // Cancel once the wave's host has drained (no longer listed) and runs its commands.
            for (let i = 0; i < 200 && outAtCancel.length === 0; i++) {
              const states = await targetStates(emulator.clients, arn)
              outAtCancel = w.instanceIds.filter((id) => states[id] === undefined)
              if (!outAtCancel.length) await sleep(20)
            }
            await sleep(300)
            child.kill('SIGINT')
          }
        }
      }
    )
    expect(outAtCancel).toHaveLength(1)
    expect(r.exitCode).toBe(1)
    // Registered again (initial or healthy), none draining or gone.
    const after = await targetStates(emulator.clients, arn)
    expect(Object.keys(after).sort()).toEqual([...w.instanceIds].sort())
    for (const s of Object.values(after)) expect(['initial', 'healthy']).toContain(s.state)
    // It was cancelled while running its commands, and its command was cancelled with it.
    const invocations = await emulator.clients.ssm.send(
      new ListCommandInvocationsCommand({ InstanceId: outAtCancel[0] })
    )
    expect(invocations.CommandInvocations?.map((i) => i.Status)).toEqual(['Cancelled'])
    expect(r.summary).toContain('Not rolled back: the run was cancelled.')
    // No rollback after a cancellation; nothing published.
    expect(JSON.parse(r.outputs['rolled-back-instance-ids']!)).toEqual([])
    expect((await sentScripts()).filter((s) => s.script.includes('./bin/rollback'))).toEqual([])
    expect(await defaultVersion(w.launchTemplateId)).toBe(1)
    expect(r.summary).toMatch(/^## deploy\n\n\*\*Failed\*\*: /)
    expect(r.summary).toContain('### Load balancer')
  })
})
