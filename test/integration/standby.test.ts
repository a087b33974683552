import { describe, expect, it } from '@jest/globals'
import { EnterStandbyCommand } from '@aws-sdk/client-auto-scaling'
import { resolveHosts } from '../../src/hosts/resolve.js'
import { standbyNote } from '../../src/report/hosts.js'
import { runRollout } from '../../src/rollout/run.js'
import { makeRuntime } from '../../src/runtime.js'
import { codeVolumeWorld } from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'
import { rolloutSettings } from '../../support/fixtures.js'

const emulator = useEmulator()

describe('members in Standby (issue: a fleet that changes under the deploy)', () => {
  it('are hosts like the InService ones: found by asg-name, named in the summary, deployed to', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 3 })
    const [, standby] = world.instanceIds
    await c.autoscaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: world.asgName,
        InstanceIds: [standby!],
        ShouldDecrementDesiredCapacity: true
      })
    )

    const { hosts } = await resolveHosts(c, {
      tags: new Map(),
      states: ['running'],
      asgNames: [world.asgName]
    })
    expect(hosts.map((h) => h.instanceId).sort()).toEqual([...world.instanceIds].sort())
    expect(Object.fromEntries(hosts.map((h) => [h.instanceId, h.lifecycleState]))).toEqual(
      Object.fromEntries(
        world.instanceIds.map((id) => [id, id === standby ? 'Standby' : 'InService'])
      )
    )
    expect(standbyNote(hosts)).toBe(
      `In Standby (deployed like the others; they serve the new code after ExitStandby): \`${standby}\``
    )

    const rollout = await runRollout(
      c.ssm,
      { ...rolloutSettings(), instanceIds: hosts.map((h) => h.instanceId) },
      makeRuntime()
    )
    expect(rollout.ok).toBe(true)
    expect(rollout.results.find((r) => r.instanceId === standby)?.status).toBe('Success')
  })

  it('are still left out when asked for InService members only', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 2 })
    await c.autoscaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: world.asgName,
        InstanceIds: [world.instanceIds[0]!],
        ShouldDecrementDesiredCapacity: true
      })
    )
    const { hosts } = await resolveHosts(c, {
      tags: new Map(),
      states: ['running'],
      asgNames: [world.asgName],
      asgLifecycleStates: ['InService']
    })
    expect(hosts.map((h) => h.instanceId)).toEqual([world.instanceIds[1]])
  })
})
