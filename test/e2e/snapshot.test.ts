import { describe, expect, it } from '@jest/globals'
import {
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  type EC2Client
} from '@aws-sdk/client-ec2'
import {
  codeVolumeWorld,
  groupMembers,
  setDesired,
  volumesAt
} from '../../support/emulator/world.js'
import { annotations, BUNDLES, runBundle } from '../../support/bundle.js'
import { useEmulator } from '../helpers/emulator.js'

const emulator = useEmulator()
const run = (inputs: Record<string, string>) => runBundle(BUNDLES.snapshot, inputs, emulator.env)
const SHA = '0123456789abcdef0123456789abcdef01234567'

async function versions(ec2: EC2Client, templateId: string) {
  const out = await ec2.send(
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId })
  )
  return (out.LaunchTemplateVersions ?? []).sort((a, b) => a.VersionNumber! - b.VersionNumber!)
}

async function snapshotsNamed(ec2: EC2Client, name: string) {
  const out = await ec2.send(
    new DescribeSnapshotsCommand({ Filters: [{ Name: 'tag:Name', Values: [name] }] })
  )
  return out.Snapshots ?? []
}

describe('the snapshot bundle, run as the runner runs it', () => {
  it('publishes the primary host code volume; a scale-out boots from it', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const primary = world.instanceIds[0]!
    const [codeVolume] = await volumesAt(c, primary)
    const [v1] = await versions(c.ec2, world.launchTemplateId)

    const r = await run({
      'instance-id': primary,
      name: 'app',
      'launch-template': world.launchTemplateName,
      'mount-point': '/srv/app',
      'snapshot-tags': 'Team=web',
      'keep-snapshots': '1'
    })

    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const snapshotId = r.outputs['snapshot-id']!
    expect(snapshotId).toMatch(/^snap-[0-9a-f]+$/)
    expect(r.outputs).toEqual({
      'snapshot-id': snapshotId,
      'volume-id': codeVolume!.VolumeId,
      'snapshot-state': 'completed',
      'launch-template-id': world.launchTemplateId,
      'launch-template-version': '2',
      'previous-default-version': '1',
      'published-versions': JSON.stringify([
        {
          launchTemplateId: world.launchTemplateId,
          launchTemplateName: world.launchTemplateName,
          version: 2,
          previousDefaultVersion: 1,
          isDefault: true,
          groups: [world.asgName]
        }
      ]),
      'deleted-snapshot-ids': '[]',
      'deleted-launch-template-versions': '[]'
    })

    const [snap] = await c.ec2
      .send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
      .then((o) => o.Snapshots!)
    expect(snap!.Description).toBe(
      'ebs-autoscale: acme/shop@0123456789ab (refs/heads/main) run 4242 attempt 1'
    )
    expect(Object.fromEntries(snap!.Tags!.map((t) => [t.Key, t.Value]))).toEqual({
      Name: 'app',
      Team: 'web',
      'ebs-autoscale:repository': 'acme/shop',
      'ebs-autoscale:commit': SHA,
      'ebs-autoscale:ref': 'refs/heads/main',
      'ebs-autoscale:run-url': 'https://github.com/acme/shop/actions/runs/4242',
      'ebs-autoscale:source-instance': primary,
      'ebs-autoscale:source-volume': codeVolume!.VolumeId,
      'ebs-autoscale:device': '/dev/sdf',
      'ebs-autoscale:launch-template': world.launchTemplateId,
      // `pending` from creation, `published` once it became the default.
      'ebs-autoscale:status': 'published'
    })

    const all = await versions(c.ec2, world.launchTemplateId)
    expect(all.map((v) => [v.VersionNumber, v.DefaultVersion])).toEqual([
      [1, false],
      [2, true]
    ])
    const v2 = all[1]!
    expect(v2.LaunchTemplateData).toEqual({
      ...v1!.LaunchTemplateData,
      BlockDeviceMappings: [
        {
          DeviceName: '/dev/sdf',
          Ebs: {
            SnapshotId: snapshotId,
            VolumeSize: 8,
            VolumeType: 'gp3',
            DeleteOnTermination: true
          }
        }
      ]
    })

    expect(r.summary).toMatch(/^## snapshot\n\n\*\*Published\*\*/)
    expect(r.summary).toContain(
      `**Published**: new instances boot from \`${snapshotId}\` (launch template version 2, the default).`
    )
    expect(r.summary).toContain(
      '| `app-asg` | $Default | the default version | 3 (desired 3) | launch-template |'
    )
    // Retention sees only this template's snapshots: the world's initial one is not tagged so.
    expect(r.summary).toContain('### Retention\n\nNothing to delete.')
    expect(r.summary).toContain(
      'New code volumes: not encrypted, like the snapshot (unless EBS encryption by default is on in the region).'
    )
    expect(r.stdout).toContain(`Flushed /srv/app on ${primary} (sync).`)

    await setDesired(c, world.asgName, 4)
    const newcomer = (await groupMembers(c, world.asgName)).find(
      (id) => !world.instanceIds.includes(id)
    )!
    const [newVolume] = await volumesAt(c, newcomer)
    expect(newVolume!.SnapshotId).toBe(snapshotId)
  })

  it('snapshots a volume by id without publishing, with consistency none', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const [codeVolume] = await volumesAt(c, world.instanceIds[1]!)
    const r = await run({ 'volume-id': codeVolume!.VolumeId!, name: 'app', consistency: 'none' })

    expect(r.exitCode).toBe(0)
    expect(r.outputs['snapshot-state']).toBe('completed')
    expect(r.outputs['launch-template-version']).toBe('')
    expect((await versions(c.ec2, world.launchTemplateId)).map((v) => v.VersionNumber)).toEqual([1])
  })

  it('records the commit given as commit, not the workflow one, and refuses a bad one by name', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const [codeVolume] = await volumesAt(c, world.instanceIds[1]!)
    const sha = 'fedcba9876543210fedcba9876543210fedcba98'
    const r = await run({
      'volume-id': codeVolume!.VolumeId!,
      name: 'app',
      consistency: 'none',
      commit: sha
    })
    expect(r.exitCode).toBe(0)
    const out = await c.ec2.send(
      new DescribeSnapshotsCommand({ SnapshotIds: [r.outputs['snapshot-id']!] })
    )
    const tags = Object.fromEntries(out.Snapshots![0]!.Tags!.map((t) => [t.Key, t.Value]))
    expect(tags['ebs-autoscale:commit']).toBe(sha)
    // The workflow's own ref says nothing about another commit.
    expect(tags['ebs-autoscale:ref']).toBeUndefined()

    const bad = await run({ 'volume-id': codeVolume!.VolumeId!, commit: 'main..dev' })
    expect(bad.exitCode).toBe(1)
    expect(annotations(bad.stdout, 'error').join('\n')).toContain(
      'Input "commit": "main..dev" is neither a commit SHA nor a git ref.'
    )
  })

  it('fails naming the device and what is attached, creating nothing', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const primary = world.instanceIds[0]!
    const r = await run({
      'instance-id': primary,
      device: '/dev/sdg',
      name: 'app',
      'launch-template': 'app-lt'
    })

    expect(r.exitCode).toBe(1)
    const [error] = annotations(r.stdout, 'error')
    expect(error).toMatch(
      new RegExp(
        `^No volume is attached to ${primary} at /dev/sdg \\(looked for /dev/sdg, sdg, /dev/xvdg, xvdg\\)\\. Attached: .*/dev/sdf \\(vol-`
      )
    )
    expect(await snapshotsNamed(c.ec2, 'app')).toHaveLength(1)
  })

  it.each([
    [{ consistency: 'bogus' }, 'Input "consistency": "bogus" is not one of: none, sync, freeze.'],
    [
      { 'keep-snapshots': '-1' },
      'Input "keep-snapshots": "-1" is out of range. Expected a whole number at least 0.'
    ],
    [
      { 'launch-template': 'app-lt', wait: 'false' },
      'Input "wait": is false while launch-template is set.'
    ]
  ])('rejects %j before creating anything', async (bad, message) => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const r = await run({ 'instance-id': world.instanceIds[0]!, name: 'app', ...bad })

    expect(r.exitCode).toBe(1)
    expect(annotations(r.stdout, 'error')[0]).toContain(message)
    expect(r.outputs).toEqual({})
    expect((await snapshotsNamed(c.ec2, 'app')).map((s) => s.SnapshotId)).toEqual([
      world.initialSnapshotId
    ])
    expect((await versions(c.ec2, world.launchTemplateId)).map((v) => v.VersionNumber)).toEqual([1])
  })

  it('lists what it would do under dry run, changing nothing', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c)
    const r = await run({
      'instance-id': world.instanceIds[0]!,
      name: 'app',
      'launch-template': world.launchTemplateId,
      'dry-run': 'true'
    })

    expect(r.exitCode).toBe(0)
    expect(r.outputs['snapshot-id']).toBe('')
    expect(r.outputs['snapshot-state']).toBe('dry-run')
    expect(r.outputs['previous-default-version']).toBe('1')
    expect(r.summary).toMatch(/^## snapshot \(dry run\)\n\n\*\*Dry run\*\*/)
    expect(r.stdout).toContain(
      `Dry run: would create version 2 of app-lt (${world.launchTemplateId}) from version 1`
    )
    expect((await snapshotsNamed(c.ec2, 'app')).map((s) => s.SnapshotId)).toEqual([
      world.initialSnapshotId
    ])
    expect((await versions(c.ec2, world.launchTemplateId)).map((v) => v.VersionNumber)).toEqual([1])
  })
})
