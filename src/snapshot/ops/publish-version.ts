/**
 * One template: publish a completed snapshot as a new version of it (all of the source
 * version's data, only the code device's mapping changed) and make it the default, unless
 * someone else moved the default meanwhile. The phase over every target: ../publish-targets.ts.
 */
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  type CreateLaunchTemplateVersionCommandInput,
  type CreateLaunchTemplateVersionCommandOutput,
  type EC2Client,
  type LaunchTemplateBlockDeviceMappingRequest,
  type LaunchTemplateTagSpecificationRequest,
  type LaunchTemplateVersion,
  ModifyLaunchTemplateCommand,
  type ResponseLaunchTemplateData
} from '@aws-sdk/client-ec2'
import { ActionError, aws, awsErrorCode, errorMessage, wrapAwsError } from '../../errors.js'
import { type Provenance, shortSha } from '../../model/provenance.js'
import { type Log, silentLog } from '../../log.js'
import { withCodeSnapshot, type VolumeShape } from './mappings.js'
import { TAG } from './tags.js'
import { describeLaunchTemplate, describeVersion } from './template.js'
import { publishToken } from './token.js'
import type { PublishedSnapshot } from '../types.js'

export interface PublishVersionOptions {
  /** Name or id. */
  launchTemplate: string
  /** `$Default`, `$Latest` or a version number. */
  sourceVersion: string
  /** Empty under dry run (nothing was made). */
  snapshotId: string
  /** The code device (any alias). */
  device: string
  /** The snapshotted volume: the size a mapping must at least have, the shape of a new one. */
  volume?: VolumeShape
  /** MiB/s written into the code mapping; undefined keeps the source mapping's. */
  volumeInitializationRate?: number
  /** The snapshot's release: instances launched from the new version carry it as a tag. */
  release?: string
  run: Provenance
  setDefault: boolean
  /** The default when the step started: if it moved since, another deploy published. */
  expectedDefaultVersion?: number
  dryRun?: boolean
  log?: Log
}

/** The default version moved while this step ran: a concurrent deploy. Never overwritten. */
export class ConcurrentDefaultChangeError extends ActionError {
  override name = 'ConcurrentDefaultChangeError'
}

const PLACEHOLDER = '(the new snapshot)'

export async function publishVersion(
  ec2: EC2Client,
  options: PublishVersionOptions
): Promise<PublishedSnapshot> {
  const log = options.log ?? silentLog
  const template = await describeLaunchTemplate(ec2, options.launchTemplate)
  refuseIfDefaultMoved(template, options)
  const source = await describeVersion(ec2, template.id, options.sourceVersion)
  const sourceVersion = source.VersionNumber!
  const snapshotId = options.snapshotId || PLACEHOLDER
  const change = withCodeSnapshot(
    source.LaunchTemplateData?.BlockDeviceMappings ?? [],
    options.device,
    snapshotId,
    options.volume,
    options.volumeInitializationRate !== undefined
      ? { volumeInitializationRate: options.volumeInitializationRate }
      : {}
  )
  for (const note of change.notes) log.info(note)
  const base = {
    launchTemplateId: template.id,
    launchTemplateName: template.name,
    snapshotId: options.snapshotId,
    device: change.after.DeviceName!,
    sourceVersion,
    previousDefaultVersion: template.defaultVersion,
    ...(change.before ? { mappingBefore: change.before } : {}),
    mappingAfter: change.after,
    encryption: change.encryption,
    ...sizeOf(change.after.Ebs?.VolumeSize ?? options.volume?.sizeGiB),
    notes: change.notes
  }

  if (options.dryRun) {
    log.info(
      `Dry run: would create version ${template.latestVersion + 1} of ${template.name} (${template.id}) from version ${sourceVersion}, mapping ${base.device} to the new snapshot` +
        (options.setDefault ? `, and make it the default (now ${template.defaultVersion}).` : '.')
    )
    return { ...base, isDefault: false, reusedVersion: false, dryRun: true }
  }

  const { version, reusedVersion } = await createCodeVersion(
    ec2,
    template,
    { source, device: base.device, mappings: change.mappings },
    options,
    log
  )
  const result = { ...base, version, reusedVersion, dryRun: false }
  if (!options.setDefault) return { ...result, isDefault: false }
  try {
    await makeDefault(ec2, template, version, options.snapshotId, log)
  } catch (err) {
    if (err instanceof ConcurrentDefaultChangeError) throw err
    throw await notMadeDefault(ec2, template, version, options.snapshotId, err)
  }
  return { ...result, isDefault: true }
}

type Template = Awaited<ReturnType<typeof describeLaunchTemplate>>

/** The default moved since the step started (`expectedDefaultVersion`): another deploy published. */
function refuseIfDefaultMoved(template: Template, options: PublishVersionOptions): void {
  const expected = options.expectedDefaultVersion
  if (expected !== undefined && template.defaultVersion !== expected && !options.dryRun) {
    throw new ConcurrentDefaultChangeError(
      `The default version of ${template.name} (${template.id}) changed from ${expected} to ${template.defaultVersion} since this step started (another deploy?). ` +
        'Nothing was published, so the newer default is kept. Run the deploy again once the other one has finished.'
    )
  }
}

/**
 * The new version: the source version with the code device's mapping changed. Its ClientToken
 * makes a retry of this run find the version it made, instead of making another.
 */
async function createCodeVersion(
  ec2: EC2Client,
  template: Template,
  from: {
    /** Its tag specifications are kept. */
    source: LaunchTemplateVersion
    device: string
    mappings: LaunchTemplateBlockDeviceMappingRequest[]
  },
  options: PublishVersionOptions,
  log: Log
): Promise<{ version: number; reusedVersion: boolean }> {
  const created = await createVersion(ec2, {
    LaunchTemplateId: template.id,
    SourceVersion: String(from.source.VersionNumber),
    VersionDescription: versionDescription(options.run, from.device, options.snapshotId),
    ClientToken: publishToken(options.run, template.id, from.device, options.snapshotId),
    // The full lists: a list given here replaces the source's, it is not merged.
    LaunchTemplateData: {
      BlockDeviceMappings: from.mappings,
      ...(options.release
        ? { TagSpecifications: withReleaseTag(from.source.LaunchTemplateData, options.release) }
        : {})
    }
  })
  for (const e of created.Warning?.Errors ?? []) {
    log.warning(`CreateLaunchTemplateVersion: ${e.Code}: ${e.Message}`)
  }
  const version = created.LaunchTemplateVersion?.VersionNumber ?? 0
  // The ClientToken answered with a version made before this call read the template.
  const reusedVersion = version <= template.latestVersion
  log.info(
    `${reusedVersion ? 'Found' : 'Created'} version ${version} of ${template.name} (${template.id}): ${from.device} -> ${options.snapshotId}.`
  )
  return { version, reusedVersion }
}

/** Sets the new version as the default, unless a deploy running alongside moved it. */
async function makeDefault(
  ec2: EC2Client,
  template: Template,
  version: number,
  snapshotId: string,
  log: Log
): Promise<void> {
  // Re-read just before setting: a deploy running alongside may have moved the default.
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
  await markPublished(ec2, snapshotId, log)
}

/**
 * The error when the version exists but could not be made the default (throttled past
 * max-attempts, access denied): the template's state, read once more, and how to finish by hand.
 */
async function notMadeDefault(
  ec2: EC2Client,
  template: Template,
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

const sizeOf = (gib: number | undefined) => (gib !== undefined ? { volumeSizeGiB: gib } : {})

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

async function createVersion(
  ec2: EC2Client,
  input: CreateLaunchTemplateVersionCommandInput
): Promise<CreateLaunchTemplateVersionCommandOutput> {
  try {
    return await ec2.send(new CreateLaunchTemplateVersionCommand(input))
  } catch (err) {
    const replayed = awsErrorCode(err) === 'IdempotentParameterMismatch'
    throw wrapAwsError(
      'CreateLaunchTemplateVersion',
      err,
      replayed
        ? 'an earlier attempt of this run published this snapshot from another source version; run the workflow again'
        : undefined
    )
  }
}

/** `acme/shop@0123456789ab /dev/sdf <- snap-0abc (run 4242)`, within 255 characters. */
export function versionDescription(run: Provenance, device: string, snapshotId: string): string {
  const what = run.repository ? `${run.repository}@${shortSha(run.sha)}` : 'ebs-autoscale'
  const runPart = run.runId ? ` (run ${run.runId})` : ''
  return `${what} ${device} <- ${snapshotId}${runPart}`.slice(0, 255)
}

/**
 * The source version's tag specifications with the instance tag `ebs-autoscale:release` set to
 * `release`: an instance launched from the new version says which release it boots.
 */
export function withReleaseTag(
  source: ResponseLaunchTemplateData | undefined,
  release: string
): LaunchTemplateTagSpecificationRequest[] {
  const specs = (source?.TagSpecifications ?? []).map((s) => ({
    ResourceType: s.ResourceType,
    Tags: (s.Tags ?? []).filter((t) => !(s.ResourceType === 'instance' && t.Key === TAG.release))
  }))
  const instance = specs.find((s) => s.ResourceType === 'instance')
  const tag = { Key: TAG.release, Value: release }
  if (instance) instance.Tags.push(tag)
  else specs.push({ ResourceType: 'instance', Tags: [tag] })
  return specs
}
