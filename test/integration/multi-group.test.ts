/**
 * Hosts in several Auto Scaling groups (issue 8, item 5), against the emulator: the deploy
 * publishes the one snapshot to each distinct launch template the groups launch from, and
 * every group's hosts, and those a group launches during the deploy, get the code.
 */
import { describe, expect, it } from '@jest/globals'
import { CreateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling'
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DescribeSnapshotsCommand
} from '@aws-sdk/client-ec2'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import {
  codeSnapshotOf,
  codeVolumeWorld,
  groupMembers,
  IMAGE_ID,
  setDesired,
  sleep,
  webAndWorkers
} from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings, RUN } from '../../support/fixtures.js'
import { publishedVersions } from '../../src/actions/shared/snapshot.js'
import { runPublishFlow, type PublishFlowOptions } from '../../src/flows/publish.js'
import { FAST, LOCK } from '../helpers/deploy-options.js'
import { useEmulator } from '../helpers/emulator.js'
import { firstPublishedVersions, templateVersions } from '../helpers/fleet.js'
import { intercept, onFirstSend } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()

function options(groups: readonly string[], extra: Partial<DeployOptions> = {}): DeployOptions {
  return deployOptions({
    query: { tags: new Map(), states: ['running'], asgNames: groups },
    rollout: rolloutSettings({ script: ['echo deploying'], backoff: FAST }),
    // As the deploy action reads it: asg-name's groups, no launch-template.
    publish: { targets: [{ sourceVersion: '$Default', groups }], setDefault: true },
    catchUp: { maxRounds: 2, readyTimeoutMs: 10_000 },
    lock: LOCK,
    ...extra
  })
}

describe('a deploy over several Auto Scaling groups', () => {
  it('publishes to each group’s template and catches up a host the second group launched meanwhile', async () => {
    const c = emulator.clients
    const [web, worker] = await webAndWorkers(c)
    const before = [...web.instanceIds, ...worker.instanceIds]
    const ssm = onFirstSend(c.ssm, () => setDesired(c, worker.asgName, 3))

    const result = await runDeploy(
      { ...c, ssm },
      options([web.asgName, worker.asgName]),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    // Every member of both groups got the commands and succeeded; the primary is a web host.
    expect(result.hosts.map((h) => h.instanceId).sort()).toEqual([...before].sort())
    expect(result.hosts[0]!.autoScalingGroup).toBe(web.asgName)
    expect(result.rollout?.results.map((r) => [r.instanceId, r.status]).sort()).toEqual(
      [...before].sort().map((id) => [id, 'Success'])
    )
    // The worker launched during the deploy (from worker-lt v1) was caught up.
    const launched = (await groupMembers(c, worker.asgName)).filter((id) => !before.includes(id))
    expect(launched).toHaveLength(1)
    expect(result.catchUp?.caughtUp).toEqual(launched)
    expect(result.catchUp?.failed).toEqual([])

    // Each template got exactly one new version, the default, mapping the one snapshot.
    const snapshotId = result.publish!.snapshot.snapshotId
    for (const w of [web, worker]) {
      expect(await templateVersions(c, w.launchTemplateId)).toEqual([
        { version: 1, isDefault: false, snapshot: w.initialSnapshotId },
        { version: 2, isDefault: true, snapshot: snapshotId }
      ])
    }
    expect(publishedVersions(result.publish!.targets)).toEqual(firstPublishedVersions(web, worker))
    // Both templates' locks were held, in id order, and released.
    const ids = [web.launchTemplateId, worker.launchTemplateId].sort()
    expect(result.locks).toEqual(ids.map((id) => `Held the deploy lock /ebs-autoscale/lock/${id}.`))
    expect(result.settled.filter((r) => r.held.kind === 'lock').map((r) => r.ok)).toEqual([
      true,
      true
    ])

    // And an instance either group launches from now on boots the new snapshot.
    await setDesired(c, web.asgName, 3)
    await setDesired(c, worker.asgName, 4)
    const fresh = [
      ...(await groupMembers(c, web.asgName)).filter((id) => !before.includes(id)),
      ...(await groupMembers(c, worker.asgName)).filter(
        (id) => !before.includes(id) && !launched.includes(id)
      )
    ]
    expect(fresh).toHaveLength(2)
    for (const id of fresh) expect(await codeSnapshotOf(c, id)).toBe(snapshotId)
  })

  it('a publish that fails part-way names the instance launched meanwhile that stays on old code', async () => {
    const c = emulator.clients
    const [web, worker] = await webAndWorkers(c)
    const before = [...web.instanceIds, ...worker.instanceIds]
    const ssm = onFirstSend(c.ssm, () => setDesired(c, worker.asgName, 3))
    // The worker template refuses the new version, as AWS does for a role denied it.
    const ec2 = intercept(c.ec2, async (command, send) => {
      if (
        command instanceof CreateLaunchTemplateVersionCommand &&
        command.input.LaunchTemplateId === worker.launchTemplateId
      )
        throw Object.assign(new Error('You are not authorized to perform this operation.'), {
          name: 'UnauthorizedOperation',
          $metadata: { httpStatusCode: 403 }
        })
      return send(command)
    })

    const result = await runDeploy(
      { ...c, ssm, ec2 },
      options([web.asgName, worker.asgName]),
      makeRuntime({ log: new RecordingLog() })
    )

    // The fleet got the code and the web template boots it; the worker launched meanwhile
    // did not, and the failure says so by id.
    const launched = (await groupMembers(c, worker.asgName)).filter((id) => !before.includes(id))
    expect(launched).toHaveLength(1)
    expect(result.ok).toBe(false)
    expect(result.failure?.phase).toBe('publish')
    expect(result.failure?.message).toContain('worker-lt: ')
    expect(result.failure?.message).toContain('UnauthorizedOperation')
    expect(result.failure?.message).toContain(
      `Instances launched during the deploy stay on old code: ${launched[0]} (deploy again to reach them)`
    )
    expect(result.catchUp?.caughtUp).toEqual([])
    expect(result.catchUp?.failed).toEqual([
      { instanceId: launched[0], reason: 'not deployed to: the publish failed' }
    ])
    expect(await codeSnapshotOf(c, launched[0]!)).toBe(worker.initialSnapshotId)
    // Nothing was sent to it: only the fleet known at the start got the commands.
    expect(result.rollout?.results.map((r) => r.instanceId).sort()).toEqual([...before].sort())
    const snapshotId = result.publish!.snapshot.snapshotId
    expect((await templateVersions(c, web.launchTemplateId)).at(-1)).toEqual({
      version: 2,
      isDefault: true,
      snapshot: snapshotId
    })
    expect(await templateVersions(c, worker.launchTemplateId)).toHaveLength(1)
    // In use by the web template: published, not tagged failed.
    expect(result.publish?.state).not.toBe('failed')
  })

  it('a publish that failed, then a look that fails too: the failure says it could not look', async () => {
    const c = emulator.clients
    const web = await codeVolumeWorld(c, { name: 'web', size: 2 })
    let denied = false
    const ec2 = intercept(c.ec2, async (command, send) => {
      if (command instanceof CreateLaunchTemplateVersionCommand) denied = true
      if (denied)
        throw Object.assign(new Error('You are not authorized to perform this operation.'), {
          name: 'UnauthorizedOperation',
          $metadata: { httpStatusCode: 403 }
        })
      return send(command)
    })

    const result = await runDeploy(
      { ...c, ec2 },
      options([web.asgName]),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(result.ok).toBe(false)
    expect(result.failure?.phase).toBe('publish')
    expect(result.failure?.message).toMatch(
      /UnauthorizedOperation.*\. Could not look for instances launched during the deploy, which may run old code: .*UnauthorizedOperation/
    )
    expect(result.catchUp).toBeUndefined()
    expect(await templateVersions(c, web.launchTemplateId)).toHaveLength(1)
  })

  it('publishes once to a template two groups share', async () => {
    const c = emulator.clients
    const app = await codeVolumeWorld(c, { name: 'app', size: 2 })
    await c.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'app-spot-asg',
        LaunchTemplate: { LaunchTemplateId: app.launchTemplateId, Version: '$Default' },
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 2,
        AvailabilityZones: ['us-east-1a']
      })
    )
    const spot = await groupMembers(c, 'app-spot-asg')

    const result = await runDeploy(
      c,
      options([app.asgName, 'app-spot-asg']),
      makeRuntime({ log: new RecordingLog() })
    )

    expect(result.ok).toBe(true)
    expect(result.rollout?.results.map((r) => r.instanceId).sort()).toEqual(
      [...app.instanceIds, ...spot].sort()
    )
    expect(await templateVersions(c, app.launchTemplateId)).toEqual([
      { version: 1, isDefault: false, snapshot: app.initialSnapshotId },
      { version: 2, isDefault: true, snapshot: result.publish!.snapshot.snapshotId }
    ])
    expect(publishedVersions(result.publish!.targets)).toEqual([
      expect.objectContaining({ version: 2, groups: [app.asgName, 'app-spot-asg'] })
    ])
  })

  it('refuses an explicit launch-template that a group does not use, before anything changes', async () => {
    const c = emulator.clients
    const [web, worker] = await webAndWorkers(c)
    let sent = 0
    const ssm = onFirstSend(c.ssm, async () => {
      sent++
    })
    const given = options([web.asgName, worker.asgName])

    await expect(
      runDeploy(
        { ...c, ssm },
        {
          ...given,
          publish: {
            ...given.publish,
            targets: [{ ...given.publish.targets[0]!, launchTemplate: 'web-lt' }]
          }
        },
        makeRuntime({ log: new RecordingLog() })
      )
    ).rejects.toThrow(
      `Setting "launchTemplate": is web-lt (${web.launchTemplateId}), but Auto Scaling group worker-asg launches from launch template worker-lt. Expected the template every group in groups launches from, or leave launchTemplate empty to publish to each group's own template.`
    )
    expect(sent).toBe(0)
    for (const w of [web, worker])
      expect(await templateVersions(c, w.launchTemplateId)).toHaveLength(1)
  })

  it('fails by name on a group that does not exist, before anything changes', async () => {
    const c = emulator.clients
    const web = await codeVolumeWorld(c, { name: 'web', size: 2 })
    await expect(
      runDeploy(c, options([web.asgName, 'nope-asg', 'gone-asg']), makeRuntime())
    ).rejects.toThrow(
      'Setting "groups": Auto Scaling groups "nope-asg", "gone-asg" do not exist in this region. Expected the names of existing groups.'
    )
    expect(await templateVersions(c, web.launchTemplateId)).toHaveLength(1)
  })

  it('adds the code mapping to a template that has none, and says so in the plan first', async () => {
    const c = emulator.clients
    const web = await codeVolumeWorld(c, { name: 'web', size: 2 })
    await sleep(1100)
    const bare = await c.ec2.send(
      new CreateLaunchTemplateCommand({
        LaunchTemplateName: 'batch-lt',
        LaunchTemplateData: {
          ImageId: IMAGE_ID,
          InstanceType: 't3.micro',
          SecurityGroupIds: [web.securityGroupId]
        }
      })
    )
    const bareId = bare.LaunchTemplate!.LaunchTemplateId!
    await c.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'batch-asg',
        LaunchTemplate: { LaunchTemplateId: bareId, Version: '$Default' },
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 1,
        AvailabilityZones: ['us-east-1a']
      })
    )
    const planned = `Launch template batch-lt (${bareId}) version 1 has no mapping for /dev/sdf: the new version adds one for the snapshot, so its instances get a code volume at /dev/sdf.`

    const log = new RecordingLog()
    const dry = await runDeploy(
      c,
      options([web.asgName, 'batch-asg'], { dryRun: true }),
      makeRuntime({ log })
    )
    expect(dry.ok).toBe(true)
    expect(dry.preflight).toContain(planned)
    expect(log.messages('info')).toContain(planned)
    // Said only for the template that lacks it.
    expect(dry.preflight?.filter((l) => l.includes('no mapping'))).toEqual([planned])
    expect(await templateVersions(c, bareId)).toEqual([
      { version: 1, isDefault: true, snapshot: undefined }
    ])

    const real = await runDeploy(c, options([web.asgName, 'batch-asg']), makeRuntime())
    expect(real.ok).toBe(true)
    expect(real.preflight).toContain(planned)
    expect(await templateVersions(c, bareId)).toEqual([
      { version: 1, isDefault: false, snapshot: undefined },
      { version: 2, isDefault: true, snapshot: real.publish!.snapshot.snapshotId }
    ])
  })

  it('tags the snapshot with every template, so each template’s retention counts it', async () => {
    const c = emulator.clients
    const [web, worker] = await webAndWorkers(c)
    const first = await runDeploy(c, options([web.asgName, worker.asgName]), makeRuntime())
    expect(first.ok).toBe(true)
    const shared = first.publish!.snapshot.snapshotId
    const out = await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [shared] }))
    expect(out.Snapshots?.[0]?.Tags).toContainEqual({
      Key: 'ebs-autoscale:launch-template',
      Value: `${web.launchTemplateId} ${worker.launchTemplateId}`
    })

    // A later deploy of the worker group alone, keeping one snapshot: the shared one is in the
    // worker template's scope, older than the new one, and kept only because web-lt maps it.
    const later = await runDeploy(
      c,
      options([worker.asgName], { retention: { keepSnapshots: 1, keepVersions: 0 } }),
      makeRuntime()
    )
    expect(later.ok).toBe(true)
    expect(later.publish?.retention?.protectedSnapshots.map((p) => p.snapshotId)).toEqual([shared])
    expect(later.publish?.retention?.deletedSnapshots).toEqual([])
  })

  it('the snapshot action reports on several groups of its template, and refuses one of another', async () => {
    const c = emulator.clients
    const [web, worker] = await webAndWorkers(c)
    await c.autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: 'web-spot-asg',
        LaunchTemplate: { LaunchTemplateName: 'web-lt' },
        MinSize: 0,
        MaxSize: 5,
        DesiredCapacity: 0,
        AvailabilityZones: ['us-east-1a']
      })
    )
    const snapshotOptions = (groups: string[]): PublishFlowOptions => ({
      source: { kind: 'instance', instanceId: web.instanceIds[0]!, device: '/dev/sdf' },
      snapshot: { consistency: { mode: 'none' }, name: 'shop', tags: {}, run: RUN },
      wait: true,
      timeoutMs: 60_000,
      publish: {
        targets: [{ launchTemplate: 'web-lt', sourceVersion: '$Default', groups }],
        device: '/dev/sdf',
        setDefault: true
      },
      retention: { keepSnapshots: 0, keepVersions: 0 },
      dryRun: false
    })

    await expect(
      runPublishFlow(c, snapshotOptions([web.asgName, worker.asgName]), makeRuntime())
    ).rejects.toThrow(
      `Setting "groups": Auto Scaling group worker-asg launches from launch template worker-lt, not from launch template web-lt (${web.launchTemplateId}). Expected only groups that use it, or leave groups empty to find them.`
    )
    expect(await templateVersions(c, web.launchTemplateId)).toHaveLength(1)

    const result = await runPublishFlow(
      c,
      snapshotOptions([web.asgName, 'web-spot-asg']),
      makeRuntime()
    )
    expect(result.failure).toBeUndefined()
    expect(result.targets.map((t) => t.groups.map((g) => g.name))).toEqual([
      [web.asgName, 'web-spot-asg']
    ])
    expect((await templateVersions(c, web.launchTemplateId)).at(-1)).toEqual({
      version: 2,
      isDefault: true,
      snapshot: result.snapshot.snapshotId
    })
  })
})
