/**
 * One template: publish a completed snapshot as a new version of it (all of the source
 * version's data, only the code device's mapping changed) and make it the default. Someone else
 * may change the template meanwhile: set-default.ts keeps or reports it. The phase over every
 * target: ../publish-targets.ts.
 */
import {
  CreateLaunchTemplateVersionCommand,
  type CreateLaunchTemplateVersionCommandInput,
  type CreateLaunchTemplateVersionCommandOutput,
  type EC2Client,
  type LaunchTemplateBlockDeviceMappingRequest,
  type LaunchTemplateTagSpecificationRequest,
  type LaunchTemplateVersion,
  type ResponseLaunchTemplateData
} from '@aws-sdk/client-ec2'
import { awsErrorCode, wrapAwsError } from '../../errors.js'
import { type Provenance, shortSha } from '../../model/provenance.js'
import { type Log, silentLog } from '../../log.js'
import { withCodeSnapshot, type VolumeShape } from './mappings.js'
import { TAG } from './tags.js'
import { describeLaunchTemplate, describeVersion } from './template.js'
import {
  acceptMovedDefault,
  ConcurrentDefaultChangeError,
  DefaultConflictError,
  makeDefault,
  type NewVersion,
  notMadeDefault
} from './set-default.js'
import { codeSnapshotOf } from './code-snapshot.js'
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

export { ConcurrentDefaultChangeError, DefaultConflictError } from './set-default.js'

const PLACEHOLDER = '(the new snapshot)'

export async function publishVersion(
  ec2: EC2Client,
  options: PublishVersionOptions
): Promise<PublishedSnapshot> {
  const log = options.log ?? silentLog
  // Read now, at publish time: the new version keeps whatever someone else changed meanwhile.
  const template = await describeLaunchTemplate(ec2, options.launchTemplate)
  const source = await describeVersion(ec2, template.id, options.sourceVersion)
  const sourceVersion = source.VersionNumber!
  const expected = options.dryRun ? undefined : options.expectedDefaultVersion
  const asked = { version: source, asked: options.sourceVersion }
  const moved = await acceptMovedDefault(ec2, template, asked, expected, options.device)
  if (moved) log.warning(moved)
  const change = withCodeSnapshot(
    source.LaunchTemplateData?.BlockDeviceMappings ?? [],
    options.device,
    options.snapshotId || PLACEHOLDER,
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
    notes: moved ? [moved, ...change.notes] : change.notes
  }
  if (options.dryRun) {
    log.info(
      `Dry run: would create version ${template.latestVersion + 1} of ${template.name} (${template.id}) from version ${sourceVersion}, mapping ${base.device} to the new snapshot` +
        (options.setDefault ? `, and make it the default (now ${template.defaultVersion}).` : '.')
    )
    return { ...base, isDefault: false, reusedVersion: false, dryRun: true }
  }
  if (options.setDefault && alreadyPublished(template, source, options)) {
    log.info(`Version ${sourceVersion}, the default, already boots ${options.snapshotId}.`)
    return { ...base, version: sourceVersion, reusedVersion: true, isDefault: true, dryRun: false }
  }
  const from = { source, device: base.device, mappings: change.mappings }
  const { version, reusedVersion } = await createCodeVersion(ec2, template, from, options, log)
  const result = { ...base, version, reusedVersion, dryRun: false }
  if (!options.setDefault) return { ...result, isDefault: false }
  const made = { version, sourceVersion, snapshotId: options.snapshotId, device: base.device }
  await setDefault(ec2, template, made, log, (isDefault) => ({ ...result, isDefault }))
  return { ...result, isDefault: true }
}

/**
 * The default already boots this snapshot: a retry of a run whose first attempt published it.
 * A new version from it would be the same again.
 */
function alreadyPublished(
  template: Template,
  source: LaunchTemplateVersion,
  options: PublishVersionOptions
): boolean {
  return (
    source.VersionNumber === template.defaultVersion &&
    codeSnapshotOf(source, options.device) === options.snapshotId
  )
}

/** makeDefault, its errors said in terms of the version made (`published`). */
async function setDefault(
  ec2: EC2Client,
  template: Template,
  made: NewVersion,
  log: Log,
  published: (isDefault: boolean) => PublishedSnapshot
): Promise<void> {
  try {
    await makeDefault(ec2, template, made, log)
  } catch (err) {
    if (err instanceof DefaultConflictError) {
      // The version exists and may be the default: the target reports it beside the failure.
      err.published = published(err.isDefault)
      throw err
    }
    if (err instanceof ConcurrentDefaultChangeError) throw err
    throw await notMadeDefault(ec2, template, made.version, made.snapshotId, err)
  }
}

type Template = Awaited<ReturnType<typeof describeLaunchTemplate>>

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
    ClientToken: publishToken(
      options.run,
      template.id,
      from.device,
      options.snapshotId,
      from.source.VersionNumber!
    ),
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

const sizeOf = (gib: number | undefined) => (gib !== undefined ? { volumeSizeGiB: gib } : {})

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
