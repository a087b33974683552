/**
 * The rollout bundle, run as the runner runs it: behind a target group given by name (not
 * attached to any Auto Scaling group), and a failed rollout whose rollback learns where it
 * returns to from launch-template.
 */
import { describe, expect, it } from '@jest/globals'
import { CreateTagsCommand } from '@aws-sdk/client-ec2'
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { ListCommandsCommand } from '@aws-sdk/client-ssm'
import {
  codeVolumeWorld,
  createTargetGroup,
  sleep,
  tag,
  targetStates
} from '../../support/emulator/world.js'
import { annotations, BUNDLES, runBundle } from '../../support/bundle.js'
import { useEmulator } from '../helpers/emulator.js'
import { healthyWaveRow, watchTraffic } from '../helpers/traffic-watch.js'

const emulator = useEmulator()
const PREVIOUS_COMMIT = 'feedfacefeedfacefeedfacefeedfacefeedface'
const TAGS = { Role: 'app', Environment: 'production', 'emulator:ssm-seconds': '1' }

async function sentScripts(): Promise<Array<{ hosts: string[]; script: string }>> {
  const out = await emulator.clients.ssm.send(new ListCommandsCommand({}))
  return (out.Commands ?? []).map((c) => ({
    hosts: c.InstanceIds ?? [],
    script: (c.Parameters?.['commands'] ?? []).join('\n')
  }))
}

describe('the rollout bundle behind a target group', () => {
  it('takes target-groups by name: each host leaves it for its commands and comes back healthy', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { tags: TAGS })
    const hosts = [...world.instanceIds].sort()
    // A target group the Auto Scaling group knows nothing of: only the name brings it in.
    const web = await createTargetGroup(c, { name: 'shop-web', deregistrationDelaySeconds: 50 })
    await c.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: web.arn,
        Targets: hosts.map((Id) => ({ Id, Port: 80 }))
      })
    )
    for (let i = 0; ; i++) {
      const states = Object.values(await targetStates(c, web.arn))
      if (states.length === 3 && states.every((s) => s.state === 'healthy')) break
      if (i > 200) throw new Error('shop-web never became healthy')
      await sleep(50)
    }

    const watch = watchTraffic(c, [web.arn])
    const r = await runBundle(
      BUNDLES.rollout,
      {
        'instance-ids': JSON.stringify(hosts),
        commands: './bin/deploy',
        'target-groups': 'shop-web'
      },
      emulator.env
    )
    const seen = await watch.stop()
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(r.outputs['succeeded-instance-ids']!)).toEqual(hosts)
    expect([...seen.whileRunning.keys()].sort()).toEqual(hosts)
    for (const [host, states] of seen.whileRunning)
      expect([host, [...new Set(states)]]).toEqual([host, ['absent']])
    expect(seen.fewestHealthy).toBe(2)
    const after = await targetStates(c, web.arn)
    expect(Object.keys(after).sort()).toEqual(hosts)
    for (const s of Object.values(after)) expect(s.state).toBe('healthy')
    expect(r.summary).toContain('### Load balancer')
    expect(r.summary).toContain('shop-web')
    // Wave 1 the canary, wave 2 the others one at a time (min-healthy keeps two in service).
    expect(r.summary).toMatch(healthyWaveRow(1, 1))
    expect(r.summary).toMatch(healthyWaveRow(2, 2))
  })

  it('rolls back with the commit and snapshot launch-template maps, failed host named', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { tags: TAGS })
    const hosts = [...world.instanceIds].sort()
    await c.ec2.send(
      new CreateTagsCommand({
        Resources: [world.initialSnapshotId],
        Tags: [{ Key: 'ebs-autoscale:commit', Value: PREVIOUS_COMMIT }]
      })
    )
    // Every command fails on this host, its rollback too: it may serve neither release.
    await tag(c.ec2, [hosts[1]!], { 'emulator:ssm-status': 'Failed' })
    const r = await runBundle(
      BUNDLES.rollout,
      {
        'instance-ids': JSON.stringify(hosts),
        commands: './bin/deploy',
        'rollback-commands': './bin/rollback',
        'launch-template': world.launchTemplateName,
        env: 'APP=shop'
      },
      emulator.env
    )
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toContain(
      `A rollback would return to ${PREVIOUS_COMMIT} (${world.initialSnapshotId}): what launch template app-lt (${world.launchTemplateId}) default version 1 maps at /dev/sdf.`
    )
    expect(JSON.parse(r.outputs['failed-instance-ids']!)).toEqual([hosts[1]])
    expect(JSON.parse(r.outputs['rolled-back-instance-ids']!)).toEqual([hosts[0], hosts[2]])
    const errors = annotations(r.stdout, 'error')
    expect(errors).toContain(
      `${hosts[1]}: the rollback did not succeed (Failed); it may serve neither release. Check it by hand or replace it.`
    )
    expect(errors.at(-1)).toContain(
      `Rolled back 2 of 3 host(s) to ${PREVIOUS_COMMIT}. The rollback FAILED on ${hosts[1]}`
    )
    const rollbacks = (await sentScripts()).filter((s) => s.script.includes('./bin/rollback'))
    expect(rollbacks.flatMap((s) => s.hosts).sort()).toEqual(hosts)
    for (const { script } of rollbacks) {
      expect(script).toContain("export APP='shop'")
      expect(script).toContain(`export EBS_AUTOSCALE_PREVIOUS_COMMIT='${PREVIOUS_COMMIT}'`)
      expect(script).toContain(
        `export EBS_AUTOSCALE_PREVIOUS_SNAPSHOT='${world.initialSnapshotId}'`
      )
    }
  })

  it('fails on a launch template it cannot read, by name, before any command', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { tags: TAGS })
    const r = await runBundle(
      BUNDLES.rollout,
      {
        'instance-ids': JSON.stringify(world.instanceIds),
        commands: './bin/deploy',
        'rollback-commands': './bin/rollback',
        'launch-template': 'no-such-lt'
      },
      emulator.env
    )
    expect(r.exitCode).toBe(1)
    expect(annotations(r.stdout, 'error')[0]).toMatch(
      /^Input "launch-template": "no-such-lt" could not be read: DescribeLaunchTemplates failed: /
    )
    expect(await sentScripts()).toEqual([])
  })
})
