/**
 * A publish that is not alone (issue 18, item 3): someone else makes a new version the default
 * at each moment of the publish. Their change is kept where it can be (the new version is made
 * from it), reported where it cannot, never silently reverted; the step is never green while
 * the default boots the old code.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { errorMessage } from '../../src/errors.js'
import {
  ConcurrentDefaultChangeError,
  DefaultConflictError,
  publishVersion
} from '../../src/snapshot/ops/publish-version.js'
import { SimulatedEc2, TEMPLATE_ID } from '../../support/ec2-world.js'
import { RUN } from '../../support/fixtures.js'
import { mockAws } from '../../support/scripted-deploy.js'
import { RecordingLog } from '../helpers/log.js'

const {
  ec2Mock,
  asgMock,
  clients: { ec2 }
} = mockAws()
const NEW = 'snap-0new000000000000a'
const OLD = 'snap-00000000000000000'
const NEW_AMI = 'ami-0fffffffffffffff0'
let world: SimulatedEc2

/** Someone else: a version like the default but on a new AMI (or `snapshotId`), made the default. */
function someoneElse(snapshotId?: string): number {
  const from = world.versions.find((v) => v.number === world.defaultVersion)!.data
  const data = structuredClone(from)
  data.ImageId = NEW_AMI
  if (snapshotId) data.BlockDeviceMappings![0]!.Ebs!.SnapshotId = snapshotId
  const number = world.versions.length + 1
  world.versions.push({ number, data })
  world.defaultVersion = number
  return number
}

/** Runs `change` once, just before (or just after) the first call to `api`. */
function around(api: string, when: 'before' | 'after', change: () => void): void {
  const handle = world.handle.bind(world)
  let done = false
  world.handle = (name, input) => {
    const now = name === api && !done
    if (now) done = true
    if (now && when === 'before') change()
    const answer = handle(name, input)
    if (now && when === 'after') change()
    return answer
  }
}

const options = (extra: Partial<Parameters<typeof publishVersion>[1]> = {}) => ({
  launchTemplate: TEMPLATE_ID,
  sourceVersion: '$Default',
  snapshotId: NEW,
  device: '/dev/sdf',
  run: RUN,
  setDefault: true,
  expectedDefaultVersion: 1,
  log: new RecordingLog(),
  ...extra
})

const data = (n: number) => world.versions.find((v) => v.number === n)!.data
const codeOf = (n: number) => data(n).BlockDeviceMappings![0]!.Ebs!.SnapshotId

beforeEach(() => {
  ec2Mock.reset()
  asgMock.reset()
  world = new SimulatedEc2({ now: () => 0 }).mock(ec2Mock, asgMock)
})

describe('a template someone else changes during the publish', () => {
  it('before the publish reads it: the new version is made from their default, keeping the new AMI', async () => {
    const theirs = someoneElse()
    const log = new RecordingLog()
    const published = await publishVersion(ec2, options({ log }))

    expect(published).toMatchObject({ version: 3, sourceVersion: theirs, isDefault: true })
    expect(world.defaultVersion).toBe(3)
    expect(data(3).ImageId).toBe(NEW_AMI)
    expect(codeOf(3)).toBe(NEW)
    const note =
      `The default version of app-lt (${TEMPLATE_ID}) changed from 1 to 2 since this step started ` +
      `(someone else's change; its /dev/sdf still boots ${OLD}): the new version is made from version 2, keeping that change.`
    expect(published.notes).toEqual([note])
    expect(log.messages('warning')).toContain(note)
  })

  it('to a new code snapshot (another deploy): refused, nothing made, their default kept', async () => {
    someoneElse('snap-0other00000000000')
    const publishing = publishVersion(ec2, options())
    await expect(publishing).rejects.toThrow(ConcurrentDefaultChangeError)
    await expect(publishing).rejects.toThrow(
      `The default version of app-lt (${TEMPLATE_ID}) changed from 1 to 2 since this step started (another deploy?): ` +
        `version 2 boots snap-0other00000000000 on /dev/sdf, not ${OLD}. Nothing was published`
    )
    expect(world.versions).toHaveLength(2)
    expect(world.defaultVersion).toBe(2)
  })

  it('with a numbered source version: refused, since a version made from it would revert theirs', async () => {
    someoneElse()
    const publishing = publishVersion(ec2, options({ sourceVersion: '1' }))
    await expect(publishing).rejects.toThrow(
      `changed from 1 to 2 since this step started, and the source version (1) is version 1: a version made from it would revert that change.`
    )
    expect(world.defaultVersion).toBe(2)
  })

  it('between its last read and ModifyLaunchTemplate: reported, naming their version', async () => {
    around('ModifyLaunchTemplate', 'before', () => someoneElse())
    const err = await publishVersion(ec2, options()).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(DefaultConflictError)
    expect(errorMessage(err)).toBe(
      `Version 3 of app-lt (${TEMPLATE_ID}) was created by someone else while this step made version 2 the default (between its last read and ModifyLaunchTemplate, or just after). ` +
        `If it was made the default, this step replaced it: the default is version 2, made from version 1 with the new snapshot ${NEW}, without version 3's changes (it boots ${OLD} on /dev/sdf). ` +
        'Check version 3: to keep its changes, make it the default again and run the deploy again, which makes the new version from it.'
    )
    // What was made is reported beside the failure: version 2 is the default.
    expect((err as DefaultConflictError).published).toMatchObject({ version: 2, isDefault: true })
    expect(world.defaultVersion).toBe(2)
  })

  it('right after ModifyLaunchTemplate: the default boots the old code, so the target fails naming the winner', async () => {
    around('ModifyLaunchTemplate', 'after', () => someoneElse(OLD))
    const err = await publishVersion(ec2, options()).catch((e: unknown) => e)

    expect(err).toBeInstanceOf(DefaultConflictError)
    expect(errorMessage(err)).toBe(
      `Version 2 of app-lt (${TEMPLATE_ID}) was made the default, but right after, someone else made version 3 the default, which boots ${OLD} on /dev/sdf, not the new snapshot ${NEW}: new instances boot the old code. ` +
        `Version 3 is left as the default. Run the deploy again to make the new code's version from it, or make version 2 the default: aws ec2 modify-launch-template --launch-template-id ${TEMPLATE_ID} --default-version 2.`
    )
    expect((err as DefaultConflictError).published).toMatchObject({ version: 2, isDefault: false })
    expect(world.defaultVersion).toBe(3)
  })

  it('right after, with a version that boots the new snapshot too: published', async () => {
    around('ModifyLaunchTemplate', 'after', () => someoneElse(NEW))
    const published = await publishVersion(ec2, options())
    expect(published).toMatchObject({ version: 2, isDefault: true })
    expect(world.defaultVersion).toBe(3)
  })

  it('alone: one version, the default, and no warning', async () => {
    const log = new RecordingLog()
    const published = await publishVersion(ec2, options({ log }))
    expect(published).toMatchObject({ version: 2, isDefault: true, notes: [] })
    expect(codeOf(2)).toBe(NEW)
    expect(log.messages('warning')).toEqual([])
  })
})

describe('the ClientToken', () => {
  it('gives a re-run publishing the same snapshot from a newer default a new version made from it', async () => {
    // The run publishes its snapshot (version 2); another deploy later publishes its own, on a
    // new AMI (version 3); the run is re-run (a rollback-to) and publishes its snapshot again.
    expect(await publishVersion(ec2, options({ expectedDefaultVersion: undefined }))).toMatchObject(
      { version: 2, isDefault: true }
    )
    someoneElse('snap-0later0000000000a')
    const again = await publishVersion(ec2, options({ expectedDefaultVersion: undefined }))

    expect(again).toMatchObject({ version: 4, sourceVersion: 3, reusedVersion: false })
    expect(world.defaultVersion).toBe(4)
    expect(data(4).ImageId).toBe(NEW_AMI)
    expect(codeOf(4)).toBe(NEW)
  })

  it('gives a retry of the same publish the version its first attempt made', async () => {
    // The first attempt made version 2 and died before ModifyLaunchTemplate.
    world.handle = ((handle) => (name: string, input: Record<string, unknown>) => {
      if (name === 'ModifyLaunchTemplate' && world.versions.length === 2 && !retried)
        throw new Error('the runner died')
      return handle(name, input)
    })(world.handle.bind(world))
    let retried = false
    await expect(publishVersion(ec2, options())).rejects.toThrow('could not be made the default')
    retried = true
    const again = await publishVersion(ec2, options())
    expect(again).toMatchObject({ version: 2, reusedVersion: true, isDefault: true })
    expect(world.versions).toHaveLength(2)
  })
})
