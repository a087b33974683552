/**
 * The committed root bundle (dist/index.js), run as the runner runs it, against the emulator:
 * the whole pipeline on the world this project was designed for, including an instance the
 * Auto Scaling group launches in the middle of the deploy.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateSnapshotCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand
} from '@aws-sdk/client-ec2'
import {
  GetParameterCommand,
  ListCommandInvocationsCommand,
  PutParameterCommand,
  SendCommandCommand
} from '@aws-sdk/client-ssm'
import {
  codeSnapshotOf,
  codeVolumeWorld,
  groupMembers,
  setDesired,
  sleep,
  tag
} from '../../support/emulator/world.js'
import { annotations, BUNDLES, runBundle } from '../../support/bundle.js'
import { useEmulator } from '../helpers/emulator.js'

const emulator = useEmulator()
const TAGS = { Role: 'app', Environment: 'production', 'emulator:ssm-seconds': '1' }

describe('the deploy bundle, run as the runner runs it', () => {
  it('deploys, snapshots, publishes, and catches up an instance launched mid-deploy', async () => {
    const world = await codeVolumeWorld(emulator.clients, { tags: TAGS })
    const before = await groupMembers(emulator.clients, world.asgName)
    let launchedMidDeploy: string[] = []

    const r = await runBundle(
      BUNDLES.deploy,
      {
        'asg-name': world.asgName,
        commands: './bin/deploy',
        'run-once': './bin/migrate',
        env: 'GIT_SHA=0123456789abcdef0123456789abcdef01234567',
        'keep-snapshots': '5'
      },
      emulator.env,
      {
        // While the fleet deploys, the group scales out: the new instance boots from v1.
        onOutput: {
          when: 'Starting wave 3',
          run: async () => {
            await setDesired(emulator.clients, world.asgName, before.length + 1)
            launchedMidDeploy = (await groupMembers(emulator.clients, world.asgName)).filter(
              (id) => !before.includes(id)
            )
          }
        }
      }
    )
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(launchedMidDeploy).toHaveLength(1)

    const hosts = JSON.parse(r.outputs['instance-ids']!) as string[]
    expect([...hosts].sort()).toEqual(before)
    expect(JSON.parse(r.outputs['succeeded-instance-ids']!)).toEqual(hosts)
    expect(JSON.parse(r.outputs['caught-up-instance-ids']!)).toEqual(launchedMidDeploy)
    expect(r.outputs['primary-instance-id']).toBe(hosts[0])
    expect(r.outputs['launch-template-id']).toBe(world.launchTemplateId)
    expect(r.outputs['launch-template-version']).toBe('2')
    expect(r.outputs['previous-default-version']).toBe('1')
    expect(r.outputs['snapshot-state']).toBe('completed')

    // The snapshot: of the primary's code volume, tagged at creation.
    const snapshotId = r.outputs['snapshot-id']!
    const snap = await emulator.clients.ec2.send(
      new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] })
    )
    const tags = Object.fromEntries((snap.Snapshots?.[0]?.Tags ?? []).map((t) => [t.Key, t.Value]))
    expect(tags).toMatchObject({
      Name: 'shop',
      'ebs-autoscale:repository': 'acme/shop',
      'ebs-autoscale:commit': '0123456789abcdef0123456789abcdef01234567',
      'ebs-autoscale:source-instance': hosts[0]
    })
    expect(r.outputs['volume-id']).toBe(snap.Snapshots?.[0]?.VolumeId)

    // The template's new default maps /dev/sdf to it; the rest of v1 is intact.
    const versions = await emulator.clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: world.launchTemplateId,
        Versions: ['$Default']
      })
    )
    const data = versions.LaunchTemplateVersions?.[0]?.LaunchTemplateData
    expect(versions.LaunchTemplateVersions?.[0]?.VersionNumber).toBe(2)
    expect(
      data?.BlockDeviceMappings?.find((m) => m.DeviceName === '/dev/sdf')?.Ebs?.SnapshotId
    ).toBe(snapshotId)
    expect(data?.InstanceType).toBe('t3.micro')
    expect(data?.KeyName).toBe('deploy-key')

    // The summary tells the story, phase by phase.
    expect(r.summary).toMatch(
      /^## deploy\n\n\*\*Deployed\*\* `acme\/shop@0123456789ab` to 3 host\(s\) and caught up 1/
    )
    for (const phase of ['resolve', 'rollout', 'snapshot', 'publish', 'catch-up', 'retention']) {
      expect(r.summary).toContain(`| ${phase} | +`)
    }
    expect(r.summary).toContain(`| \`${launchedMidDeploy[0]}\` | ✅ deployed |`)
    // The deploy lock was held for the run and released at its end.
    expect(r.summary).toContain(
      `Held the deploy lock /ebs-autoscale/lock/${world.launchTemplateId}.`
    )
    expect(r.summary).toContain(
      `Released the deploy lock /ebs-autoscale/lock/${world.launchTemplateId}.`
    )
    await expect(
      emulator.clients.ssm.send(
        new GetParameterCommand({ Name: `/ebs-autoscale/lock/${world.launchTemplateId}` })
      )
    ).rejects.toThrow(/ParameterNotFound|not found/i)

    // And an instance launched from now on boots from the new snapshot.
    await setDesired(emulator.clients, world.asgName, before.length + 2)
    const [fresh] = (await groupMembers(emulator.clients, world.asgName)).filter(
      (id) => !before.includes(id) && !launchedMidDeploy.includes(id)
    )
    expect(await codeSnapshotOf(emulator.clients, fresh!)).toBe(snapshotId)
  })

  it('a failed host: nothing published, the snapshot tagged failed, the step fails naming the host', async () => {
    const world = await codeVolumeWorld(emulator.clients, { tags: TAGS })
    const hosts = (await groupMembers(emulator.clients, world.asgName)).sort()
    await tag(emulator.clients.ec2, [hosts[2]!], { 'emulator:ssm-status': 'Failed' })
    const r = await runBundle(
      BUNDLES.deploy,
      { 'asg-name': world.asgName, commands: './bin/deploy' },
      emulator.env
    )
    expect(r.exitCode).toBe(1)
    expect(JSON.parse(r.outputs['failed-instance-ids']!)).toEqual([hosts[2]])
    expect(r.outputs['snapshot-state']).toBe('failed')
    expect(r.outputs['launch-template-version']).toBe('')
    const versions = await emulator.clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: world.launchTemplateId })
    )
    expect(versions.LaunchTemplateVersions?.map((v) => v.VersionNumber)).toEqual([1])
    const snap = await emulator.clients.ec2.send(
      new DescribeSnapshotsCommand({ SnapshotIds: [r.outputs['snapshot-id']!] })
    )
    expect(snap.Snapshots?.[0]?.Tags).toEqual(
      expect.arrayContaining([{ Key: 'ebs-autoscale:status', Value: 'failed' }])
    )
    expect(annotations(r.stdout, 'error').at(-1)).toContain(
      `Rollout failed on 1 host(s): ${hosts[2]} (Failed, exit code 1)`
    )
  })

  it('dry run: the whole plan, nothing changed', async () => {
    const world = await codeVolumeWorld(emulator.clients, { tags: TAGS })
    const r = await runBundle(
      BUNDLES.deploy,
      { 'asg-name': world.asgName, commands: './bin/deploy', 'dry-run': 'true' },
      emulator.env
    )
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('Dry run: would create version 2')
    expect(r.summary).toMatch(/^## deploy \(dry run\)/)
    const versions = await emulator.clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: world.launchTemplateId })
    )
    expect(versions.LaunchTemplateVersions).toHaveLength(1)
    const snaps = await emulator.clients.ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'] })
    )
    expect(snaps.Snapshots?.map((s) => s.SnapshotId)).toEqual([world.initialSnapshotId])
  })

  it('rejects bad input before any change', async () => {
    const world = await codeVolumeWorld(emulator.clients, { tags: TAGS })
    const cases: Array<[Record<string, string>, string]> = [
      [{ commands: './bin/deploy' }, 'Input "tags": neither tags nor asg-name is set'],
      [
        { 'asg-name': world.asgName, commands: './bin/deploy', 'on-failure': 'keep' },
        'Input "on-failure": "keep" is not one of: tag, delete.'
      ],
      [
        { 'asg-name': world.asgName, commands: './bin/deploy', 'snapshot-tags': 'Name=x' },
        'Input "snapshot-tags": sets Name'
      ],
      [
        { 'asg-name': world.asgName, commands: './bin/deploy', 'snapshot-timeout': 'soon' },
        'Input "snapshot-timeout": "soon" is not a duration'
      ],
      [
        { 'asg-name': world.asgName, commands: './bin/deploy', 'lock-timeout': 'a while' },
        'Input "lock-timeout": "a while" is not a duration'
      ],
      [
        { 'asg-name': world.asgName, commands: './bin/deploy', 'warm-pools': 'refresh' },
        'Input "warm-pools": "refresh" is not one of: replace, keep.'
      ],
      [
        { 'asg-name': 'no-such-group', commands: './bin/deploy' },
        'Input "asg-name": Auto Scaling group "no-such-group" does not exist'
      ]
    ]
    for (const [inputs, message] of cases) {
      const r = await runBundle(BUNDLES.deploy, inputs, emulator.env)
      expect([inputs, r.exitCode]).toEqual([inputs, 1])
      expect(annotations(r.stdout, 'error')[0]).toContain(message)
    }
    const versions = await emulator.clients.ec2.send(
      new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: world.launchTemplateId })
    )
    expect(versions.LaunchTemplateVersions).toHaveLength(1)
  })

  it('cancelled while catch-up waits for a late instance: stops by itself, with its summary and what it left', async () => {
    const world = await codeVolumeWorld(emulator.clients, { tags: TAGS })
    const before = await groupMembers(emulator.clients, world.asgName)
    let late: string | undefined
    const started = Date.now()
    const r = await runBundle(
      BUNDLES.deploy,
      {
        'asg-name': world.asgName,
        commands: './bin/deploy',
        'run-once': './bin/migrate',
        'catch-up-timeout': '10m'
      },
      emulator.env,
      {
        onOutput: {
          when: 'Starting wave 3',
          run: async (child) => {
            // The group scales out with an instance whose agent never comes online...
            await setDesired(emulator.clients, world.asgName, before.length + 1)
            late = (await groupMembers(emulator.clients, world.asgName)).find(
              (id) => !before.includes(id)
            )
            await tag(emulator.clients.ec2, [late!], { 'emulator:ssm-ping': 'none' })
            // ...and the runner cancels the job while catch-up waits for it.
            let seen = ''
            let cancelled = false
            child.stdout!.on('data', (d: Buffer) => {
              seen += d.toString()
              if (!cancelled && seen.includes('Catch-up look 1:')) cancelled = child.kill('SIGINT')
            })
          }
        }
      }
    )
    expect(late).toBeDefined()
    expect(r.exitCode).toBe(1)
    // Well before the 10-minute catch-up-timeout: the wait ended on the signal.
    expect(Date.now() - started).toBeLessThan(60_000)
    const failure = `Cancelled during catch-up: the fleet is deployed and the snapshot published, but these instances launched meanwhile may run old code: ${late}`
    expect(annotations(r.stdout, 'error').at(-1)).toContain(failure)
    expect(r.summary).toContain(`**Failed**: ${failure}`)
    expect(r.summary).toContain(
      `| \`${late}\` | ❌ the deploy was cancelled before this instance was deployed to |`
    )
    expect(r.outputs['launch-template-version']).toBe('2')
    expect(JSON.parse(r.outputs['caught-up-instance-ids']!)).toEqual([])
  })

  it('the post step, after a main step that died, cancels only what still runs and tags the unpublished snapshot', async () => {
    const { ec2, ssm } = emulator.clients
    const world = await codeVolumeWorld(emulator.clients, { tags: TAGS })
    const [first, second] = (await groupMembers(emulator.clients, world.asgName)).sort()
    await tag(ec2, [second!], { 'emulator:ssm-seconds': '60' })
    const send = async (id: string) =>
      (
        await ssm.send(
          new SendCommandCommand({
            DocumentName: 'AWS-RunShellScript',
            InstanceIds: [id],
            Parameters: { commands: ['./bin/deploy'] }
          })
        )
      ).Command!.CommandId!
    const ended = await send(first!)
    const running = await send(second!)
    // The first host's command ends after its 1 s (emulator:ssm-seconds); the second's runs on.
    await sleep(1_500)
    const volume = await ec2.send(
      new DescribeVolumesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: [first!] }]
      })
    )
    const snapshotId = (
      await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.Volumes![0]!.VolumeId! }))
    ).SnapshotId!
    // The lock the dead main step still held (taken first, released last).
    const lock = `/ebs-autoscale/lock/${world.launchTemplateId}`
    await ssm.send(
      new PutParameterCommand({
        Name: lock,
        Type: 'String',
        Value: JSON.stringify({ token: 'tok-dead', startedAt: '2026-11-26T06:00:00Z' })
      })
    )
    // The journal the main step wrote through core.saveState, as the runner hands it back.
    const journal = JSON.stringify([
      {
        held: { kind: 'lock', name: lock, token: 'tok-dead', templateId: world.launchTemplateId }
      },
      { held: { kind: 'command', commandId: ended } },
      { held: { kind: 'command', commandId: running } },
      { held: { kind: 'snapshot', snapshotId } },
      { held: { kind: 'command', commandId: 'released-already' }, settled: 'ended' }
    ])
    const r = await runBundle(
      BUNDLES.deploy,
      { 'asg-name': world.asgName, commands: './bin/deploy' },
      emulator.env,
      { state: { isPost: 'true', journal } }
    )
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const done = [
      `Left command ${ended} as it was: it had already ended (Success).`,
      `Cancelled command ${running} (it was InProgress).`,
      `Tagged snapshot ${snapshotId} as failed: it was never published.`,
      `Released the deploy lock ${lock}.`
    ]
    expect(r.stdout.split('\n').filter((l) => done.includes(l))).toEqual(done)
    for (const line of done) expect(r.summary).toContain(line)
    const statuses = async (commandId: string) =>
      (
        await ssm.send(new ListCommandInvocationsCommand({ CommandId: commandId }))
      ).CommandInvocations!.map((i) => i.Status)
    expect(await statuses(ended)).toEqual(['Success'])
    expect(await statuses(running)).toEqual(['Cancelled'])
    const snap = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
    expect(snap.Snapshots![0]!.Tags).toEqual(
      expect.arrayContaining([{ Key: 'ebs-autoscale:status', Value: 'failed' }])
    )
    await expect(ssm.send(new GetParameterCommand({ Name: lock }))).rejects.toThrow(
      /ParameterNotFound|not found/i
    )
  })

  it('the post step after a main step that released everything does nothing', async () => {
    const journal = JSON.stringify([
      { held: { kind: 'command', commandId: 'cmd-1' }, settled: 'ended' },
      { held: { kind: 'snapshot', snapshotId: 'snap-1' }, settled: 'published' }
    ])
    const r = await runBundle(BUNDLES.deploy, { commands: './bin/deploy' }, emulator.env, {
      state: { isPost: 'true', journal }
    })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain(
      'The main step left no command running, no host out of service and no unpublished snapshot: nothing to do.'
    )
  })
})
