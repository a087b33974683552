/** Reads a launch template (by name or id) and its versions. */
import {
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
  type LaunchTemplateVersion,
  paginateDescribeLaunchTemplateVersions
} from '@aws-sdk/client-ec2'
import { ActionError, aws, wrapAwsError } from '../../errors.js'

export interface LaunchTemplateRef {
  id: string
  name: string
  defaultVersion: number
  latestVersion: number
}

export const LAUNCH_TEMPLATE_ID = /^lt-[0-9a-f]{8,17}$/

/** Names: 3 to 128 of letters, digits and ( ) . - / _ */
export const LAUNCH_TEMPLATE_NAME = /^[A-Za-z0-9().\-/_]{3,128}$/

export async function describeLaunchTemplate(
  ec2: EC2Client,
  idOrName: string
): Promise<LaunchTemplateRef> {
  const byId = LAUNCH_TEMPLATE_ID.test(idOrName)
  const out = await aws(
    'DescribeLaunchTemplates',
    ec2.send(
      new DescribeLaunchTemplatesCommand(
        byId ? { LaunchTemplateIds: [idOrName] } : { LaunchTemplateNames: [idOrName] }
      )
    )
  )
  const t = out.LaunchTemplates?.[0]
  if (!t?.LaunchTemplateId) {
    throw new ActionError(
      `Launch template ${idOrName} was not found in this region (check launch-template and aws-region).`
    )
  }
  return {
    id: t.LaunchTemplateId,
    name: t.LaunchTemplateName ?? '',
    defaultVersion: t.DefaultVersionNumber ?? 0,
    latestVersion: t.LatestVersionNumber ?? 0
  }
}

/** One version: a number, `$Default` or `$Latest`. */
export async function describeVersion(
  ec2: EC2Client,
  templateId: string,
  version: string
): Promise<LaunchTemplateVersion> {
  const out = await aws(
    'DescribeLaunchTemplateVersions',
    ec2.send(
      new DescribeLaunchTemplateVersionsCommand({
        LaunchTemplateId: templateId,
        Versions: [version]
      })
    )
  )
  const found = out.LaunchTemplateVersions?.[0]
  if (!found?.VersionNumber) {
    throw new ActionError(`Launch template ${templateId} has no version ${version}.`)
  }
  return found
}

/** Every version of one template, all pages. */
export async function listVersions(
  ec2: EC2Client,
  templateId: string
): Promise<LaunchTemplateVersion[]> {
  const out: LaunchTemplateVersion[] = []
  try {
    for await (const page of paginateDescribeLaunchTemplateVersions(
      { client: ec2, pageSize: 200 },
      { LaunchTemplateId: templateId }
    )) {
      out.push(...(page.LaunchTemplateVersions ?? []))
    }
  } catch (err) {
    throw wrapAwsError('DescribeLaunchTemplateVersions', err)
  }
  return out
}
