import { beforeEach, describe, expect, it } from '@jest/globals'
import { DescribeDocumentCommand } from '@aws-sdk/client-ssm'
import { mockAws, scriptedFleet } from '../../support/scripted-deploy.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import { RecordingLog } from '../helpers/log.js'
import { GROUP, SimulatedEc2, TEMPLATE_ID } from '../../support/ec2-world.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'
import { deployOptions } from '../../support/fixtures.js'

const aws = mockAws()
const { ec2Mock, asgMock, ssmMock, clients } = aws
const IDS = SimulatedFleet.ids(4)
const COMMAND_MS = 60_000

const options = deployOptions

describe('the deploy pipeline', () => {
  let clock: VirtualClock
  let world: SimulatedEc2
  let fleet: SimulatedFleet
  beforeEach(() => {
    ;({ clock, world, fleet } = scriptedFleet(aws, {
      ids: IDS,
      commandMs: COMMAND_MS,
      snapshotMs: 90_000
    }))
  })

  it('snapshots the primary once it succeeded, while the fleet deploys, and publishes after the fleet', async () => {
    const start = clock.now()
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)

    const canaryDone = start + COMMAND_MS
    const fleetDone = Math.max(...fleet.commands.map((c) => c.sentAt)) + COMMAND_MS
    const snapshotAt = world.firstCall('CreateSnapshot')!
    // After the primary (the canary) succeeded, before the rest of the fleet finished.
    expect(snapshotAt).toBeGreaterThanOrEqual(canaryDone)
    expect(snapshotAt).toBeLessThan(fleetDone)
    expect(world.events.find((e) => e.api === 'CreateSnapshot')?.input['VolumeId']).toBe(
      `vol-${IDS[0]!.slice(2)}`
    )
    // Published only after the whole fleet and the snapshot were done.
    const publishedAt = world.firstCall('CreateLaunchTemplateVersion')!
    expect(publishedAt).toBeGreaterThanOrEqual(fleetDone)
    expect(publishedAt).toBeGreaterThanOrEqual(snapshotAt + 90_000)
    // The snapshot's 90 s overlapped the fleet's 60 s: the deploy took canary + max(fleet, snapshot).
    const total = result.phases.timings.at(-1)!.endedAt! - start
    expect(total).toBeLessThan(COMMAND_MS + 90_000 + 5_000)

    const snapshotId = result.publish!.snapshot.snapshotId
    expect(world.defaultVersion).toBe(2)
    expect(world.versions[1]!.data.BlockDeviceMappings).toEqual([
      { DeviceName: '/dev/sdf', Ebs: { SnapshotId: snapshotId, VolumeSize: 8, VolumeType: 'gp3' } }
    ])
    expect(world.versions[1]!.data.ImageId).toBe('ami-0123456789abcdef0')
    expect(result.publish?.state).toBe('completed')
    expect(result.publish?.targets[0]?.published?.previousDefaultVersion).toBe(1)
    expect(result.catchUp?.caughtUp).toEqual([])
    expect(result.phases.timings.map((t) => t.name)).toEqual([
      'resolve',
      'rollout',
      'snapshot',
      'publish',
      'catch-up',
      'retention'
    ])
  })

  it('a failed wave leaves the template untouched and the snapshot tagged failed', async () => {
    fleet.setHost(IDS[2]!, { durationMs: COMMAND_MS, outcome: 'Failed' })
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(result.failure?.message).toContain(
      "nothing was published; the launch template's default is unchanged"
    )
    expect(world.calls['CreateLaunchTemplateVersion']).toBeUndefined()
    expect(world.calls['ModifyLaunchTemplate']).toBeUndefined()
    expect(world.defaultVersion).toBe(1)
    const snapshot = world.snapshots.get(result.publish!.snapshot.snapshotId)!
    expect(snapshot.tags['ebs-autoscale:status']).toBe('failed')
    expect(result.publish?.state).toBe('failed')
    expect(result.catchUp).toBeUndefined()
  })

  it('with on-failure: delete, the failed deploy leaves no snapshot behind', async () => {
    fleet.setHost(IDS[3]!, { durationMs: COMMAND_MS, outcome: 'Failed' })
    const result = await runDeploy(
      clients,
      options({ onFailure: 'delete' }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(world.snapshots.size).toBe(0)
    expect(result.publish?.state).toBe('deleted')
    expect(world.calls['CreateLaunchTemplateVersion']).toBeUndefined()
  })

  // Depends on the rollout asking hooks.shouldStop before each new host (the rollout branch).
  it('a snapshot that ends in error stops the rollout before any new host starts, and says so', async () => {
    world = new SimulatedEc2(clock, { snapshotMs: 30_000, snapshotEnds: 'error' })
    IDS.forEach((id, i) => world.launch(id, { at: clock.now() - 86_400_000 + i * 1000 }))
    world.mock(ec2Mock, asgMock)
    const one = { kind: 'count' as const, value: 1 }
    const result = await runDeploy(
      clients,
      options({ rollout: { ...options().rollout, maxConcurrency: one } }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    // The canary (IDS[0]) and the host already running when the snapshot failed; no other.
    expect(fleet.commands.flatMap((c) => c.instanceIds)).toEqual([IDS[0], IDS[1]])
    expect(result.ok).toBe(false)
    const snapshotId = result.publish!.snapshot.snapshotId
    expect(result.failure?.message).toBe(
      `The snapshot failed, so the rollout stopped before any new host started and nothing was published: Snapshot ${snapshotId} failed: state error: The volume was deleted while the snapshot was in progress`
    )
    expect(result.rollout?.stoppedReason).toContain('the snapshot failed')
    expect(result.publish?.state).toBe('error')
    expect(world.snapshots.get(snapshotId)!.tags['ebs-autoscale:status']).toBe('failed')
    expect(world.calls['CreateLaunchTemplateVersion']).toBeUndefined()
  })

  // Depends on the rollout asking hooks.shouldStop before each new host (the rollout branch).
  it('a snapshot that times out stops the rollout before any new host starts, and says so', async () => {
    const one = { kind: 'count' as const, value: 1 }
    const base = options()
    const result = await runDeploy(
      clients,
      options({
        rollout: { ...base.rollout, maxConcurrency: one },
        snapshot: { ...base.snapshot, timeoutMs: 20_000 }
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(fleet.commands.flatMap((c) => c.instanceIds)).toEqual([IDS[0], IDS[1]])
    expect(result.ok).toBe(false)
    const snapshotId = result.publish!.snapshot.snapshotId
    expect(result.failure?.message).toMatch(
      new RegExp(
        `^The snapshot failed, so the rollout stopped before any new host started and nothing was published: Snapshot ${snapshotId} did not complete within 20s`
      )
    )
    // Still pending in AWS: the deploy's finally tags it failed, never to be published.
    expect(result.publish?.state).toBe('failed')
    expect(world.snapshots.get(snapshotId)!.tags['ebs-autoscale:status']).toBe('failed')
    expect(world.calls['CreateLaunchTemplateVersion']).toBeUndefined()
  })

  it('a canary failure never snapshots at all', async () => {
    fleet.setHost(IDS[0]!, { durationMs: COMMAND_MS, outcome: 'Failed' })
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(world.calls['CreateSnapshot']).toBeUndefined()
    expect(result.publish).toBeUndefined()
  })

  it('an AWS error that stops the rollout leaves the snapshot tagged failed, never published', async () => {
    // The agent drops between the check and the fleet wave: SendCommand answers InvalidInstanceId.
    clock.at(clock.now() + COMMAND_MS / 2, () => fleet.setHost(IDS[2]!, { ping: 'ConnectionLost' }))
    await expect(
      runDeploy(clients, options(), makeRuntime({ clock, log: new RecordingLog() }))
    ).rejects.toThrow(
      /SendCommand failed: InvalidInstanceId: .*Hint: the instance is not SSM-managed or its agent is offline/
    )
    const [snapshot] = [...world.snapshots.values()]
    expect(snapshot?.tags['ebs-autoscale:status']).toBe('failed')
    expect(world.calls['CreateLaunchTemplateVersion']).toBeUndefined()
  })

  it('catches up an instance launched from the old version during the rollout, and stops', async () => {
    const late = 'i-00000000000000099'
    // The group scales out while the fleet wave runs: the new instance boots from version 1.
    clock.at(clock.now() + COMMAND_MS + 10_000, () => {
      world.launch(late, { version: 1 })
      fleet.setHost(late, { durationMs: 30_000 })
    })
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    expect(result.catchUp?.caughtUp).toEqual([late])
    expect(result.rollout?.results.map((r) => r.instanceId)).toEqual(IDS)
    const catchUpCommand = fleet.commands.at(-1)!
    expect(catchUpCommand.instanceIds).toEqual([late])
    expect(catchUpCommand.sentAt).toBeGreaterThanOrEqual(world.firstCall('ModifyLaunchTemplate')!)
    expect(result.catchUp?.rounds).toBe(2)
    // One snapshot, of the primary: the catch-up round's own first host is never snapshotted.
    expect([...world.snapshots.values()].map((s) => s.id)).toEqual([
      result.publish!.snapshot.snapshotId
    ])
    expect(world.snapshots.size).toBe(1)
  })

  it('cancelled during the fleet wave says it was cancelled, not that hosts failed', async () => {
    const abort = new AbortController()
    // Past the canary, while the rest of the fleet runs its commands.
    clock.at(clock.now() + COMMAND_MS + 20_000, () => abort.abort())
    const log = new RecordingLog()
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log, signal: abort.signal })
    )
    expect(result.ok).toBe(false)
    expect(result.rollout?.stoppedReason).toBe('the rollout was cancelled')
    expect(log.messages('error').filter((m) => m.includes('snapshot'))).toEqual([])
    expect(log.messages('warning')).toContain(
      'The deploy was cancelled, so the snapshot will not be published.'
    )
    expect(result.failure?.message).toBe(
      "The deploy was cancelled during the rollout: nothing was published; the launch template's default is unchanged."
    )
    expect(world.defaultVersion).toBe(1)
  })

  it('cancelled while catch-up waits for a late instance, stops promptly and says what it left', async () => {
    const late = 'i-00000000000000097'
    clock.at(clock.now() + COMMAND_MS + 10_000, () => {
      world.launch(late, { version: 1 })
      fleet.setHost(late, { ping: 'none' })
    })
    const abort = new AbortController()
    const answer = world.handle.bind(world)
    let cancelAt = 0
    world.handle = (api, input) => {
      const out = answer(api, input)
      // Cancelled 20 s after the publish, while catch-up waits for the late instance's agent.
      if (api === 'ModifyLaunchTemplate')
        clock.at((cancelAt = clock.now() + 20_000), () => abort.abort())
      return out
    }
    const log = new RecordingLog()
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log, signal: abort.signal })
    )
    expect(cancelAt).toBeGreaterThan(0)
    expect(clock.now() - cancelAt).toBeLessThan(10_000)
    expect(result.ok).toBe(false)
    expect(result.catchUp?.cancelled).toBe(true)
    expect(result.catchUp?.failed).toEqual([
      { instanceId: late, reason: 'the deploy was cancelled before this instance was deployed to' }
    ])
    expect(result.failure?.message).toBe(
      `Cancelled during catch-up: the fleet is deployed and the snapshot published, but these instances launched meanwhile may run old code: ${late}`
    )
    expect(world.defaultVersion).toBe(2)
    expect(fleet.commands.some((c) => c.instanceIds.includes(late))).toBe(false)
  })

  it('an instance launched after the publish, from the new version, needs nothing', async () => {
    const fresh = 'i-00000000000000098'
    const answer = world.handle.bind(world)
    world.handle = (api, input) => {
      const out = answer(api, input)
      // The group scales out right after the new default: the instance boots from version 2.
      if (api === 'ModifyLaunchTemplate') {
        world.launch(fresh)
        fleet.setHost(fresh, {})
      }
      return out
    }
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    expect(world.instances.get(fresh)?.version).toBe(2)
    expect(result.catchUp?.upToDate).toEqual([fresh])
    expect(result.catchUp?.caughtUp).toEqual([])
    expect(fleet.commands.some((c) => c.instanceIds.includes(fresh))).toBe(false)
  })

  it('fails, publishing nothing, when the default version moved during the deploy', async () => {
    clock.at(clock.now() + COMMAND_MS + 5_000, () => {
      world.versions.push({ number: 2, data: { ImageId: 'ami-0other' } })
      world.defaultVersion = 2
    })
    const result = await runDeploy(
      clients,
      options(),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(result.failure?.message).toMatch(/default version/i)
    expect(world.defaultVersion).toBe(2)
    expect(world.calls['ModifyLaunchTemplate']).toBeUndefined()
  })

  it('finds the template from the group it already read, and keeps set-default: false', async () => {
    const result = await runDeploy(
      clients,
      options({
        query: { tags: new Map(), states: ['running'], asgNames: [GROUP] },
        publish: { targets: [{ sourceVersion: '$Default' }], setDefault: false }
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    expect(result.publish?.targets[0]?.template.id).toBe(TEMPLATE_ID)
    expect(world.versions).toHaveLength(2)
    expect(world.defaultVersion).toBe(1)
    expect(world.calls['ModifyLaunchTemplate']).toBeUndefined()
    // Resolve, the group report and catch-up's look read the group; inferring the template
    // from it does not read it again.
    expect(world.calls['DescribeAutoScalingGroups']).toBe(3)
  })

  describe('pre-flight: checked before any command is sent', () => {
    const refused = async (extra: Parameters<typeof options>[0], message: string | RegExp) => {
      await expect(
        runDeploy(clients, options(extra), makeRuntime({ clock, log: new RecordingLog() }))
      ).rejects.toThrow(message)
      return {
        sent: fleet.calls['SendCommand'] ?? 0,
        snapshots: world.calls['CreateSnapshot'] ?? 0
      }
    }
    const NOTHING = { sent: 0, snapshots: 0 }

    it('the primary has a volume at device', async () =>
      expect(
        await refused(
          { device: '/dev/sdz' },
          `No volume is attached to ${IDS[0]} at /dev/sdz (looked for /dev/sdz, sdz, /dev/xvdz, xvdz). Attached: /dev/sdf (vol-${IDS[0]!.slice(2)}).`
        )
      ).toEqual(NOTHING))

    it('the source version exists', async () =>
      expect(
        await refused(
          { publish: { targets: [{ sourceVersion: '99' }], setDefault: true } },
          `Setting "sourceVersion": "99" is not a version of launch template app-lt (${TEMPLATE_ID}). Expected $Default, $Latest or a version from 1 to 1.`
        )
      ).toEqual(NOTHING))

    it('the SSM document exists', async () => {
      ssmMock.on(DescribeDocumentCommand, { Name: 'Deploy-App' }).rejects(
        Object.assign(new Error('The specified document does not exist.'), {
          name: 'InvalidDocument'
        })
      )
      const done = await refused(
        { rollout: { ...options().rollout, document: 'Deploy-App' } },
        'Setting "document": "Deploy-App" is not an SSM document this account can run in this region.'
      )
      expect(done).toEqual(NOTHING)
    })

    it('a group pinned to a version number is refused by name, with the command that fixes it', async () => {
      world.groupVersion = '1'
      const done = await refused(
        {},
        `Auto Scaling group ${GROUP} is pinned to version 1 of app-lt (${TEMPLATE_ID}), so the instances it launches ignore the new version and boot with old code. Make it follow the default version ($Default): aws autoscaling update-auto-scaling-group --auto-scaling-group-name ${GROUP} --launch-template 'LaunchTemplateId=${TEMPLATE_ID},Version=$Default'`
      )
      expect(done).toEqual(NOTHING)
    })

    it('dry run shows the same checks', async () => {
      const result = await runDeploy(
        clients,
        options({ dryRun: true, rollout: { ...options().rollout, dryRun: true } }),
        makeRuntime({ clock, log: new RecordingLog() })
      )
      expect(result.preflight).toEqual([
        `The primary ${IDS[0]} has its code volume vol-${IDS[0]!.slice(2)} at /dev/sdf.`,
        `Launch template app-lt (${TEMPLATE_ID}) has source version $Default (1).`,
        `Auto Scaling group ${GROUP} follows $Default: it boots the new code.`,
        'SSM document AWS-RunShellScript exists.'
      ])
    })
  })

  it('dry run plans everything and changes nothing', async () => {
    const result = await runDeploy(
      clients,
      options({ dryRun: true, rollout: { ...options().rollout, dryRun: true } }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    expect(fleet.calls['SendCommand']).toBeUndefined()
    for (const api of [
      'CreateLaunchTemplateVersion',
      'ModifyLaunchTemplate',
      'DeleteSnapshot',
      'CreateTags'
    ]) {
      expect([api, world.calls[api]]).toEqual([api, undefined])
    }
    expect(world.snapshots.size).toBe(0)
    expect(result.publish?.targets[0]?.published?.dryRun).toBe(true)
  })
})
