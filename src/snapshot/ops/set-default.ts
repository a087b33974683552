/**
 * Making the new version the default of a template others may change too (Terraform, the
 * console, another pipeline). EC2 has no compare-and-set, so the default is read when the
 * version is made, re-read just before ModifyLaunchTemplate and read back just after: a change
 * by someone else is kept where it can be (the new version is made from it) and reported where
 * it cannot, never silently reverted, and never a green step while the default boots old code.
 */
import {
  CreateTagsCommand,
  type EC2Client,
  type LaunchTemplateVersion,
  ModifyLaunchTemplateCommand
} from '@aws-sdk/client-ec2'
import { ActionError, aws, errorMessage, wrapAwsError } from '../../errors.js'
import type { Log } from '../../log.js'
import { codeSnapshotOf, versionCodeSnapshot } from './code-snapshot.js'
import { TAG } from './tags.js'
import { describeLaunchTemplate, type LaunchTemplateRef } from './template.js'
import type { PublishedSnapshot } from '../types.js'

/** The default version moved while this step ran: a concurrent deploy. Never overwritten. */
export class ConcurrentDefaultChangeError extends ActionError {
  override name = 'ConcurrentDefaultChangeError'
}

/**
 * Someone else changed the template while this step set the default: the version exists
 * (and is the default when `isDefault`), but the target fails with what was left.
 */
export class DefaultConflictError extends ActionError {
  override name = 'DefaultConflictError'
  /** What was made, set by publishVersion. */
  published?: PublishedSnapshot
  constructor(
    message: string,
    readonly isDefault: boolean
  ) {
    super(message)
  }
}

/** What the new version is: its number, the version it was made from, what it boots. */
export interface NewVersion {
  version: number
  sourceVersion: number
  snapshotId: string
  device: string
}

/**
 * The default moved between the step's start (`expected`) and the publish's read of `template`.
 * Someone else's change that kept the code (a new AMI, say) is kept: the new version is made
 * from the new default, and the returned note says so. A new default booting another code
 * snapshot (another deploy), or a source version other than the new default, would be
 * reverted: refused, nothing published.
 */
export async function acceptMovedDefault(
  ec2: EC2Client,
  template: LaunchTemplateRef,
  source: { version: LaunchTemplateVersion; asked: string },
  expected: number | undefined,
  device: string
): Promise<string | undefined> {
  const now = template.defaultVersion
  if (expected === undefined || now === expected) return undefined
  const moved = `The default version of ${template.name} (${template.id}) changed from ${expected} to ${now} since this step started`
  const number = source.version.VersionNumber
  if (number !== now) {
    throw new ConcurrentDefaultChangeError(
      `${moved}, and the source version (${source.asked}) is version ${number}: a version made from it would revert that change. ` +
        'Nothing was published, so the newer default is kept. Run the deploy again to make the new version from the new default.'
    )
  }
  const before = await versionCodeSnapshot(ec2, template.id, expected, device).catch(() => null)
  const after = codeSnapshotOf(source.version, device)
  if (before !== after) {
    throw new ConcurrentDefaultChangeError(
      `${moved} (another deploy?): version ${now} boots ${after ?? 'no snapshot'} on ${device}, not ${before ?? 'what version ' + expected + ' booted'}. ` +
        'Nothing was published, so the newer default is kept. Run the deploy again once the other one has finished.'
    )
  }
  return `${moved} (someone else's change; its ${device} still boots ${after}): the new version is made from version ${now}, keeping that change.`
}

/**
 * Sets the new version as the default unless the default moved since the version was made;
 * then reads the default back (see readBack).
 */
export async function makeDefault(
  ec2: EC2Client,
  template: LaunchTemplateRef,
  made: NewVersion,
  log: Log
): Promise<void> {
  const { version, snapshotId } = made
  // Re-read just before setting: someone may have moved the default since it was read.
  const now = await describeLaunchTemplate(ec2, template.id)
  if (now.defaultVersion === version) return markPublished(ec2, snapshotId, log)
  if (now.defaultVersion !== template.defaultVersion) {
    throw new ConcurrentDefaultChangeError(
      `The default version of ${template.name} (${template.id}) changed from ${template.defaultVersion} to ${now.defaultVersion} while this step ran (another deploy?). ` +
        `Version ${version} (snapshot ${snapshotId}) was created but NOT made the default, so the newer default is kept. ` +
        'Run the deploy again once the other one has finished.'
    )
  }
  await aws(
    'ModifyLaunchTemplate',
    ec2.send(
      new ModifyLaunchTemplateCommand({
        LaunchTemplateId: template.id,
        DefaultVersion: String(version)
      })
    )
  )
  log.info(`Version ${version} is now the default (was ${template.defaultVersion}).`)
  await readBack(ec2, template, made, now.latestVersion, log)
}

/**
 * After ModifyLaunchTemplate: the default must still be the new version (or another that boots
 * the new snapshot), and no version someone else made around that call (after `lastSeen`, the
 * latest at the re-read) may have been replaced without a word.
 */
async function readBack(
  ec2: EC2Client,
  template: LaunchTemplateRef,
  made: NewVersion,
  lastSeen: number,
  log: Log
): Promise<void> {
  const { version, snapshotId, device } = made
  const after = await describeLaunchTemplate(ec2, template.id)
  if (after.defaultVersion !== version) return overridden(ec2, template, made, after, log)
  await markPublished(ec2, snapshotId, log)
  for (let other = lastSeen + 1; other <= after.latestVersion; other++) {
    if (other === version) continue
    const boots = await versionCodeSnapshot(ec2, template.id, other, device)
    if (boots === snapshotId) continue
    throw new DefaultConflictError(
      `Version ${other} of ${template.name} (${template.id}) was created by someone else while this step made version ${version} the default (between its last read and ModifyLaunchTemplate, or just after). ` +
        `If it was made the default, this step replaced it: the default is version ${version}, made from version ${made.sourceVersion} with the new snapshot ${snapshotId}, without version ${other}'s changes (it boots ${boots ?? 'no snapshot'} on ${device}). ` +
        `Check version ${other}: to keep its changes, make it the default again and run the deploy again, which makes the new version from it.`,
      true
    )
  }
}

/** Someone made another version the default right after this step did. */
async function overridden(
  ec2: EC2Client,
  template: LaunchTemplateRef,
  made: NewVersion,
  after: LaunchTemplateRef,
  log: Log
): Promise<void> {
  const { version, snapshotId, device } = made
  const winner = after.defaultVersion
  const boots = await versionCodeSnapshot(ec2, template.id, winner, device)
  if (boots === snapshotId) {
    log.info(`The default is now version ${winner}, which boots ${snapshotId} too.`)
    return markPublished(ec2, snapshotId, log)
  }
  throw new DefaultConflictError(
    `Version ${version} of ${template.name} (${template.id}) was made the default, but right after, someone else made version ${winner} the default, which boots ${boots ?? 'no snapshot'} on ${device}, not the new snapshot ${snapshotId}: new instances boot the old code. ` +
      `Version ${winner} is left as the default. Run the deploy again to make the new code's version from it, or make version ${version} the default: aws ec2 modify-launch-template --launch-template-id ${template.id} --default-version ${version}.`,
    false
  )
}

/**
 * The error when the version exists but could not be made the default (throttled past
 * max-attempts, access denied): the template's state, read once more, and how to finish by hand.
 */
export async function notMadeDefault(
  ec2: EC2Client,
  template: LaunchTemplateRef,
  version: number,
  snapshotId: string,
  err: unknown
): Promise<ActionError> {
  const current = await describeLaunchTemplate(ec2, template.id).then(
    (t) => `the default is version ${t.defaultVersion}`,
    () =>
      `the default was version ${template.defaultVersion} when last read (it could not be read again)`
  )
  return new ActionError(
    `Version ${version} of ${template.name} (${template.id}) was created from snapshot ${snapshotId}, but could not be made the default: ${errorMessage(err)}. ` +
      `The template is left so: version ${version} exists, ${current}, and new instances boot that default. ` +
      `To publish it: aws ec2 modify-launch-template --launch-template-id ${template.id} --default-version ${version}. ` +
      'Running the workflow again takes a new snapshot and creates another version instead.'
  )
}

/**
 * Tags the snapshot `ebs-autoscale:status=published` once it is what new instances boot from,
 * so infrastructure code can find the newest published code snapshot (see examples/). A
 * failure here changes nothing that matters: a warning.
 */
async function markPublished(ec2: EC2Client, snapshotId: string, log: Log): Promise<void> {
  try {
    await ec2.send(
      new CreateTagsCommand({
        Resources: [snapshotId],
        Tags: [{ Key: TAG.status, Value: 'published' }]
      })
    )
  } catch (err) {
    log.warning(
      `Could not tag ${snapshotId} as published: ${errorMessage(wrapAwsError('CreateTags', err))}`
    )
  }
}
