/**
 * A deploy whose publish made the new default but whose instance refresh could not start
 * (someone started one after the pre-flight): the version boots the new code, so the instances
 * launched during the deploy are still caught up, and the step fails naming the refresh.
 */
import { describe, expect, it } from '@jest/globals'
import {
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand
} from '@aws-sdk/client-auto-scaling'
import { runDeploy } from '../../src/flows/deploy.js'
import { describeGroup } from '../../src/hosts/resolve.js'
import { makeRuntime } from '../../src/runtime.js'
import { codeVolumeWorld, setDesired } from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings } from '../../support/fixtures.js'
import { useEmulator } from '../helpers/emulator.js'
import { intercept, onFirstSend } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()
const FAST = { initialMs: 50, maxMs: 200, factor: 1.5, jitter: 0 }

describe('an instance refresh that fails after the publish', () => {
  it('still catches up the instance launched meanwhile, and fails naming the refresh', async () => {
    const c = emulator.clients
    const w = await codeVolumeWorld(c, { name: 'web', size: 2 })
    const ssm = onFirstSend(c.ssm, () => setDesired(c, w.asgName, 3))
    // The emulator keeps no instance refreshes: none runs at the pre-flight, and one started
    // by someone else since makes StartInstanceRefresh fail as AWS does.
    const autoscaling = intercept(c.autoscaling, async (command, send) => {
      if (command instanceof DescribeInstanceRefreshesCommand) return { InstanceRefreshes: [] }
      if (command instanceof StartInstanceRefreshCommand)
        throw Object.assign(new Error('An Instance Refresh is already in progress.'), {
          name: 'InstanceRefreshInProgress',
          $metadata: { httpStatusCode: 400 }
        })
      return send(command)
    })

    const result = await runDeploy(
      { ...c, ssm, autoscaling },
      deployOptions({
        query: { tags: new Map(), states: ['running'], asgNames: [w.asgName] },
        rollout: rolloutSettings({ script: ['echo deploying'], backoff: FAST }),
        publish: {
          targets: [{ sourceVersion: '$Default', groups: [w.asgName] }],
          setDefault: true,
          instanceRefresh: { minHealthyPercentage: 90, wait: false, timeoutMs: 60_000 }
        },
        catchUp: { maxRounds: 2, readyTimeoutMs: 10_000 },
        lock: { timeoutMs: 30_000, holdMs: 3_600_000 }
      }),
      makeRuntime({ log: new RecordingLog() })
    )

    const members = (await describeGroup(c.autoscaling, w.asgName))!.Instances!.map(
      (i) => i.InstanceId!
    )
    const launched = members.filter((id) => !w.instanceIds.includes(id))
    expect(launched).toHaveLength(1)
    expect(result.ok).toBe(false)
    expect(result.failure?.phase).toBe('refresh')
    expect(result.failure?.message).toBe(
      `An instance refresh is already in progress on Auto Scaling group ${w.asgName}. Wait for it to end, or cancel it (aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${w.asgName}), then run again.`
    )
    // The new version is the default, and the instance launched meanwhile got the rollout.
    expect(result.publish?.targets[0]?.published).toMatchObject({ version: 2, isDefault: true })
    expect(result.publish?.snapshot.snapshotId).toBe(
      result.publish?.targets[0]?.published?.snapshotId
    )
    expect(result.catchUp?.caughtUp).toEqual(launched)
    expect(result.catchUp?.failed).toEqual([])
  })
})
