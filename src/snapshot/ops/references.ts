/**
 * What uses a snapshot, so retention never deletes it: any version of any launch template in
 * the region mapping it, or an AMI of this account.
 */
import {
  type EC2Client,
  type LaunchTemplate,
  type LaunchTemplateVersion,
  paginateDescribeImages,
  paginateDescribeLaunchTemplates
} from '@aws-sdk/client-ec2'
import { awsErrorCode, wrapAwsError } from '../../errors.js'
import { chunk } from '../../collections.js'
import { listVersions } from './template.js'

/** Snapshot id -> a reason to keep it (`used by app-lt version 3`). */
export type SnapshotUses = Map<string, string>

/** Templates read at once: enough to be quick, few enough not to be throttled. */
const PARALLEL_TEMPLATES = 4

export interface TemplateScanOptions {
  /** Versions of this template that are going away (keep-versions): their mappings free. */
  ignore?: { launchTemplateId: string; versions: ReadonlySet<number> }
}

/**
 * Every version of every launch template in the region, all pages of both listings. EC2 has no
 * call for all versions of all templates (without a template it answers only $Default and
 * $Latest), so it is one listing of the templates, then one of each template's versions.
 */
export async function snapshotsInLaunchTemplates(
  ec2: EC2Client,
  options: TemplateScanOptions = {}
): Promise<SnapshotUses> {
  const uses: SnapshotUses = new Map()
  const { ignore } = options
  const ignored = (v: LaunchTemplateVersion): boolean =>
    !!ignore &&
    v.LaunchTemplateId === ignore.launchTemplateId &&
    ignore.versions.has(v.VersionNumber ?? 0)
  for (const batch of chunk(await listTemplates(ec2), PARALLEL_TEMPLATES)) {
    const versions = await Promise.all(batch.map((t) => versionsOf(ec2, t)))
    for (const v of versions.flat()) {
      if (ignored(v)) continue
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
  }
  return uses
}

async function listTemplates(ec2: EC2Client): Promise<LaunchTemplate[]> {
  const out: LaunchTemplate[] = []
  try {
    for await (const page of paginateDescribeLaunchTemplates({ client: ec2, pageSize: 200 }, {})) {
      out.push(...(page.LaunchTemplates ?? []).filter((t) => t.LaunchTemplateId))
    }
  } catch (err) {
    throw wrapAwsError('DescribeLaunchTemplates', err)
  }
  return out
}

/** A template deleted since it was listed has no versions left to protect. */
async function versionsOf(ec2: EC2Client, t: LaunchTemplate): Promise<LaunchTemplateVersion[]> {
  try {
    const versions = await listVersions(ec2, t.LaunchTemplateId!)
    return versions.map((v) => ({ LaunchTemplateName: t.LaunchTemplateName, ...v }))
  } catch (err) {
    if (/^InvalidLaunchTemplate(Id|Name)\.NotFound/.test(awsErrorCode(err) ?? '')) return []
    throw err
  }
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
