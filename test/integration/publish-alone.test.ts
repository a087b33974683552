/**
 * The publish knows it is not alone (issue 18, items 3 and 5), against the emulator: someone
 * else (Terraform, the console, another pipeline) makes a new version the default at each
 * moment of the deploy, and hosts found by tags span two groups with two templates. Each ends
 * as the issue asks: their change kept or reported, never silently reverted; never a green
 * step while a template's default boots the old code.
 */
import { describe, expect, it } from '@jest/globals'
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeSnapshotsCommand,
  ModifyLaunchTemplateCommand
} from '@aws-sdk/client-ec2'
import type { DeployOptions } from '../../src/deploy/types.js'
import { runDeploy } from '../../src/flows/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import {
  codeVolumeWorld,
  groupMembers,
  setDesired,
  type TestClients,
  webAndWorkers
} from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings } from '../../support/fixtures.js'
import { FAST, LOCK } from '../helpers/deploy-options.js'
import { useEmulator } from '../helpers/emulator.js'
import { templateVersions } from '../helpers/fleet.js'
import { afterFirst, beforeFirst, onFirstSend } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()

/** Hosts found by tags only: no asg-name, no launch-template (the templates are found). */
function options(extra: Partial<DeployOptions> = {}): DeployOptions {
  return deployOptions({
    query: { tags: new Map([['Role', ['app']]]), states: ['running'] },
    rollout: rolloutSettings({ script: ['echo deploying'], backoff: FAST }),
    publish: { targets: [{ sourceVersion: '$Default' }], setDefault: true },
    catchUp: { maxRounds: 2, readyTimeoutMs: 10_000 },
    lock: LOCK,
    ...extra
  })
}

/**
 * Someone else: a new version with another instance type, made from `from` (the default, or the
 * version their plan was computed from), made the default. Through the emulator's own client.
 */
async function someoneElse(c: TestClients, templateId: string, from = '$Default'): Promise<number> {
  const made = await c.ec2.send(
    new CreateLaunchTemplateVersionCommand({
      LaunchTemplateId: templateId,
      SourceVersion: from,
      VersionDescription: 'terraform: bigger instances',
      LaunchTemplateData: { InstanceType: 't3.small' }
    })
  )
  const version = made.LaunchTemplateVersion!.VersionNumber!
  await c.ec2.send(
    new ModifyLaunchTemplateCommand({
      LaunchTemplateId: templateId,
      DefaultVersion: String(version)
    })
  )
  return version
}

/** Each version with its instance type: someone else's change is a bigger instance. */
const versions = (c: TestClients, templateId: string) =>
  templateVersions(c, templateId, { withType: true })

async function statusOf(c: TestClients, snapshotId: string): Promise<string | undefined> {
  const out = await c.ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshotId] }))
  return out.Snapshots?.[0]?.Tags?.find((t) => t.Key === 'ebs-autoscale:status')?.Value
}

const run = (c: TestClients, extra: Partial<TestClients> = {}) =>
  runDeploy({ ...c, ...extra }, options(), makeRuntime({ log: new RecordingLog() }))

describe('a template someone else changes during the deploy', () => {
  it('before the publish reads it (during the rollout): the new version is made from theirs', async () => {
    const c = emulator.clients
    const app = await codeVolumeWorld(c, { size: 2 })
    const ssm = onFirstSend(c.ssm, () => someoneElse(c, app.launchTemplateId))

    const result = await run(c, { ssm })

    expect(result.failure).toBeUndefined()
    expect(result.ok).toBe(true)
    const snapshotId = result.publish!.snapshot.snapshotId
    // Their change (t3.small) is kept, with the new code on top.
    expect(await versions(c, app.launchTemplateId)).toEqual([
      { version: 1, isDefault: false, type: 't3.micro', snapshot: app.initialSnapshotId },
      { version: 2, isDefault: false, type: 't3.small', snapshot: app.initialSnapshotId },
      { version: 3, isDefault: true, type: 't3.small', snapshot: snapshotId }
    ])
    expect(result.publish!.targets[0]!.published?.notes).toContain(
      `The default version of app-lt (${app.launchTemplateId}) changed from 1 to 2 since this step started (someone else's change; its /dev/sdf still boots ${app.initialSnapshotId}): the new version is made from version 2, keeping that change.`
    )
  })

  it('between its last read and ModifyLaunchTemplate: detected and reported, naming their version', async () => {
    const c = emulator.clients
    const app = await codeVolumeWorld(c, { size: 2 })
    const isModify = (cmd: unknown) => cmd instanceof ModifyLaunchTemplateCommand
    const ec2 = beforeFirst(c.ec2, isModify, () => someoneElse(c, app.launchTemplateId))

    const result = await run(c, { ec2 })

    expect(result.ok).toBe(false)
    const snapshotId = result.publish!.snapshot.snapshotId
    expect(result.failure).toEqual({
      phase: 'publish',
      message:
        `Version 3 of app-lt (${app.launchTemplateId}) was created by someone else while this step made version 2 the default (between its last read and ModifyLaunchTemplate, or just after). ` +
        `If it was made the default, this step replaced it: the default is version 2, made from version 1 with the new snapshot ${snapshotId}, without version 3's changes (it boots ${app.initialSnapshotId} on /dev/sdf). ` +
        'Check version 3: to keep its changes, make it the default again and run the deploy again, which makes the new version from it.'
    })
    expect(await versions(c, app.launchTemplateId)).toEqual([
      { version: 1, isDefault: false, type: 't3.micro', snapshot: app.initialSnapshotId },
      { version: 2, isDefault: true, type: 't3.micro', snapshot: snapshotId },
      { version: 3, isDefault: false, type: 't3.small', snapshot: app.initialSnapshotId }
    ])
    // The default boots the snapshot: it stays published, never tagged failed.
    expect(result.publish!.targets[0]!.published).toMatchObject({ version: 2, isDefault: true })
    expect(await statusOf(c, snapshotId)).toBe('published')
  })

  it('right after ModifyLaunchTemplate: the default boots the old code, so the step fails naming the version that won', async () => {
    const c = emulator.clients
    const app = await codeVolumeWorld(c, { size: 2 })
    const isModify = (cmd: unknown) => cmd instanceof ModifyLaunchTemplateCommand
    // Their plan was made from version 1, before the deploy published: the old code.
    const ec2 = afterFirst(c.ec2, isModify, () => someoneElse(c, app.launchTemplateId, '1'))

    const result = await run(c, { ec2 })

    expect(result.ok).toBe(false)
    const snapshotId = result.publish!.snapshot.snapshotId
    expect(result.failure).toEqual({
      phase: 'publish',
      message:
        `Version 2 of app-lt (${app.launchTemplateId}) was made the default, but right after, someone else made version 3 the default, which boots ${app.initialSnapshotId} on /dev/sdf, not the new snapshot ${snapshotId}: new instances boot the old code. ` +
        `Version 3 is left as the default. Run the deploy again to make the new code's version from it, or make version 2 the default: aws ec2 modify-launch-template --launch-template-id ${app.launchTemplateId} --default-version 2.`
    })
    const now = await versions(c, app.launchTemplateId)
    expect(now.find((v) => v.isDefault)).toEqual({
      version: 3,
      isDefault: true,
      type: 't3.small',
      snapshot: app.initialSnapshotId
    })
  })

  it('after the publish read it back: catch-up judges by snapshot, and the last look fails the step', async () => {
    const c = emulator.clients
    const app = await codeVolumeWorld(c, { size: 2 })
    // Once the snapshot is tagged published (the publish's last call), someone else's version
    // on the old code becomes the default, and the group launches an instance from it.
    const isPublished = (cmd: unknown) =>
      cmd instanceof CreateTagsCommand &&
      !!cmd.input.Tags?.some((t) => t.Key === 'ebs-autoscale:status' && t.Value === 'published')
    const ec2 = afterFirst(c.ec2, isPublished, async () => {
      await someoneElse(c, app.launchTemplateId, '1')
      await setDesired(c, app.asgName, 3)
    })

    const result = await run(c, { ec2 })

    const launched = (await groupMembers(c, app.asgName)).filter(
      (id) => !app.instanceIds.includes(id)
    )
    expect(launched).toHaveLength(1)
    // Launched from version 3, a later number than the deploy's 2, but on the old snapshot.
    expect(result.catchUp?.caughtUp).toEqual(launched)
    expect(result.catchUp?.upToDate).toEqual([])
    const snapshotId = result.publish!.snapshot.snapshotId
    expect(result.ok).toBe(false)
    expect(result.failure).toEqual({
      phase: 'publish',
      message:
        `The default version of app-lt (${app.launchTemplateId}) is now 3, made the default by someone else after this step made version 2 the default; ` +
        `it boots ${app.initialSnapshotId} on /dev/sdf, not the new snapshot ${snapshotId}: new instances boot the old code. ` +
        `Run the deploy again to make the new code's version from it, or make version 2 the default again: aws ec2 modify-launch-template --launch-template-id ${app.launchTemplateId} --default-version 2.`
    })
  })
})

describe('hosts found by tags spanning two groups with two templates', () => {
  it('publishes to both templates, each default booting the new snapshot, and catches up the second group', async () => {
    const c = emulator.clients
    const [web, worker] = await webAndWorkers(c)
    const before = [...web.instanceIds, ...worker.instanceIds]
    const ssm = onFirstSend(c.ssm, () => setDesired(c, worker.asgName, 3))

    const result = await run(c, { ssm })

    expect(result.failure).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(result.hosts.map((h) => h.instanceId).sort()).toEqual([...before].sort())
    const snapshotId = result.publish!.snapshot.snapshotId
    for (const w of [web, worker]) {
      expect(await versions(c, w.launchTemplateId)).toEqual([
        { version: 1, isDefault: false, type: 't3.micro', snapshot: w.initialSnapshotId },
        { version: 2, isDefault: true, type: 't3.micro', snapshot: snapshotId }
      ])
    }
    // Each target reported, the primary's first, with the group that launches from it.
    expect(
      result.publish!.targets.map((t) => [t.template.name, t.groups.map((g) => g.name)])
    ).toEqual([
      ['web-lt', [web.asgName]],
      ['worker-lt', [worker.asgName]]
    ])
    // The worker launched during the deploy (from worker-lt v1, the old code) was caught up.
    const launched = (await groupMembers(c, worker.asgName)).filter((id) => !before.includes(id))
    expect(launched).toHaveLength(1)
    expect(result.catchUp?.caughtUp).toEqual(launched)
  })
})
