/**
 * What uses a snapshot, so retention never deletes it: a launch template version mapping it
 * (every version of our template; the default and latest of every other one) or an AMI.
 */
import {
  type EC2Client,
  type LaunchTemplateVersion,
  paginateDescribeImages,
  paginateDescribeLaunchTemplateVersions
} from '@aws-sdk/client-ec2'
import { wrapAwsError } from '../errors.js'
import { chunk } from '../collections.js'
import { listVersions } from './template.js'

/** Snapshot id -> a reason to keep it (`used by lt-0abc version 3`). */
export type SnapshotUses = Map<string, string>

export async function snapshotsInLaunchTemplates(
  ec2: EC2Client,
  options: { launchTemplateId?: string; ignoreVersions?: ReadonlySet<number> } = {}
): Promise<SnapshotUses> {
  const uses: SnapshotUses = new Map()
  const record = (v: LaunchTemplateVersion): void => {
    for (const m of v.LaunchTemplateData?.BlockDeviceMappings ?? []) {
      const id = m.Ebs?.SnapshotId
      if (id && !uses.has(id)) {
        uses.set(
          id,
          `used by ${v.LaunchTemplateName ?? v.LaunchTemplateId} version ${v.VersionNumber}`
        )
      }
    }
  }
  if (options.launchTemplateId) {
    for (const v of await listVersions(ec2, options.launchTemplateId)) {
      if (!options.ignoreVersions?.has(v.VersionNumber ?? 0)) record(v)
    }
  }
  // Without a template, EC2 answers the default and latest versions of every template.
  try {
    for await (const page of paginateDescribeLaunchTemplateVersions(
      { client: ec2, pageSize: 200 },
      { Versions: ['$Default', '$Latest'] }
    )) {
      for (const v of page.LaunchTemplateVersions ?? []) {
        if (v.LaunchTemplateId !== options.launchTemplateId) record(v)
      }
    }
  } catch (err) {
    throw wrapAwsError('DescribeLaunchTemplateVersions', err)
  }
  return uses
}

export async function snapshotsBehindImages(
  ec2: EC2Client,
  snapshotIds: readonly string[]
): Promise<SnapshotUses> {
  const uses: SnapshotUses = new Map()
  const wanted = new Set(snapshotIds)
  try {
    for (const ids of chunk(snapshotIds, 200)) {
      for await (const page of paginateDescribeImages(
        { client: ec2, pageSize: 1000 },
        {
          Owners: ['self'],
          IncludeDeprecated: true,
          IncludeDisabled: true,
          Filters: [{ Name: 'block-device-mapping.snapshot-id', Values: ids }]
        }
      )) {
        for (const image of page.Images ?? []) {
          for (const m of image.BlockDeviceMappings ?? []) {
            const id = m.Ebs?.SnapshotId
            if (id && wanted.has(id) && !uses.has(id)) uses.set(id, `behind image ${image.ImageId}`)
          }
        }
      }
    }
  } catch (err) {
    throw wrapAwsError('DescribeImages', err)
  }
  return uses
}
