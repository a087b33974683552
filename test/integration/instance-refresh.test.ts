/**
 * Instance refreshes after the publish, against the emulator's (support/emulator/
 * instance_refresh.py): one that succeeds replaces every member with an instance booting the
 * new snapshot; one that cannot start (someone started another after the pre-flight) leaves the
 * new default in place, so the instances launched during the deploy are still caught up, and
 * the step fails naming the refresh.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateOrUpdateTagsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand
} from '@aws-sdk/client-auto-scaling'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import type { InstanceRefreshSettings } from '../../src/snapshot/targets.js'
import {
  codeSnapshotOf,
  codeVolumeWorld,
  groupMembers,
  type CodeVolumeWorld,
  setDesired
} from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings } from '../../support/fixtures.js'
import { useEmulator } from '../helpers/emulator.js'
import { onFirstSend } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()
const FAST = { initialMs: 50, maxMs: 200, factor: 1.5, jitter: 0 }

function options(w: CodeVolumeWorld, instanceRefresh: InstanceRefreshSettings): DeployOptions {
  return deployOptions({
    query: { tags: new Map(), states: ['running'], asgNames: [w.asgName] },
    rollout: rolloutSettings({ script: ['echo deploying'], backoff: FAST }),
    publish: {
      targets: [{ sourceVersion: '$Default', groups: [w.asgName] }],
      setDefault: true,
      instanceRefresh
    },
    catchUp: { maxRounds: 2, readyTimeoutMs: 10_000 },
    lock: { timeoutMs: 30_000, holdMs: 3_600_000 }
  })
}

describe('an instance refresh after the publish', () => {
  it('followed to its end, replaces every member with one booting the new snapshot', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { name: 'web', size: 2 })

    const result = await runDeploy(
      c,
      options(w, { minHealthyPercentage: 90, wait: true, timeoutMs: 30_000 }),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    const target = result.publish!.targets[0]!
    expect(target.refreshes).toEqual([
      expect.objectContaining({ groupName: w.asgName, status: 'Successful' })
    ])
    const now = await groupMembers(c, w.asgName)
    expect(now).toHaveLength(2)
    for (const id of now) {
      expect(w.instanceIds).not.toContain(id)
      expect(await codeSnapshotOf(c, id)).toBe(result.publish!.snapshot.snapshotId)
    }
    // Catch-up found the replacements, launched from the new version: nothing to do.
    expect([...(result.catchUp?.upToDate ?? [])].sort()).toEqual([...now].sort())
    expect(result.catchUp?.caughtUp).toEqual([])
  })

  it('one that cannot start: the instance launched meanwhile is still caught up, and the step fails naming the refresh', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { name: 'web', size: 2 })
    // After the pre-flight: the group scales out, and someone starts a long instance refresh.
    const ssm = onFirstSend(c.ssm, async () => {
      await setDesired(c, w.asgName, 3)
      await c.autoscaling.send(
        new CreateOrUpdateTagsCommand({
          Tags: [
            {
              ResourceId: w.asgName,
              ResourceType: 'auto-scaling-group',
              Key: 'emulator:refresh-seconds',
              Value: '600',
              PropagateAtLaunch: false
            }
          ]
        })
      )
      await c.autoscaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: w.asgName }))
    })

    const result = await runDeploy(
      { ...c, ssm },
      options(w, { minHealthyPercentage: 90, wait: false, timeoutMs: 60_000 }),
      makeRuntime({ log: new RecordingLog() })
    )

    const launched = (await groupMembers(c, w.asgName)).filter((id) => !w.instanceIds.includes(id))
    expect(launched).toHaveLength(1)
    const theirs = await c.autoscaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: w.asgName })
    )
    const running = theirs.InstanceRefreshes?.[0]
    expect(theirs.InstanceRefreshes).toHaveLength(1)
    expect(result.ok).toBe(false)
    expect(result.failure?.phase).toBe('refresh')
    expect(result.failure?.message).toBe(
      `An instance refresh is already InProgress on Auto Scaling group ${w.asgName} (${running!.InstanceRefreshId}). Wait for it to end, or cancel it (aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${w.asgName}), then run again.`
    )
    // The new version is the default, and the instance launched meanwhile got the rollout.
    const published = result.publish?.targets[0]?.published
    expect(published).toMatchObject({ version: 2, isDefault: true })
    expect(published?.snapshotId).toBe(result.publish?.snapshot.snapshotId)
    expect(result.catchUp?.caughtUp).toEqual(launched)
    expect(result.catchUp?.failed).toEqual([])
  })
})
