/**
 * Readers of an emulator world's end state, as the tests compare it: a template's versions and
 * the snapshot each boots, and what published-versions says of a first deploy (a group's
 * members and an instance's code snapshot are world.ts's groupMembers and codeSnapshotOf).
 */
import { DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2'
import type { CodeVolumeWorld, TestClients } from '../../support/emulator/world.js'

export interface VersionSeen {
  version: number | undefined
  isDefault: boolean | undefined
  /** The instance type, only when asked for (`withType`). */
  type?: string | undefined
  /** The snapshot its /dev/sdf mapping boots. */
  snapshot: string | undefined
}

/** Each version of the template, oldest first. */
export async function templateVersions(
  c: TestClients,
  templateId: string,
  options: { withType?: boolean } = {}
): Promise<VersionSeen[]> {
  const out = await c.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: templateId })
  )
  return (out.LaunchTemplateVersions ?? [])
    .map((v) => ({
      version: v.VersionNumber,
      isDefault: v.DefaultVersion,
      ...(options.withType ? { type: v.LaunchTemplateData?.InstanceType } : {}),
      snapshot: v.LaunchTemplateData?.BlockDeviceMappings?.find((m) => m.DeviceName === '/dev/sdf')
        ?.Ebs?.SnapshotId
    }))
    .sort((a, b) => a.version! - b.version!)
}

/** The snapshot the template's default version boots on /dev/sdf. */
export async function defaultSnapshot(
  c: TestClients,
  templateId: string
): Promise<string | undefined> {
  const out = await c.ec2.send(
    new DescribeLaunchTemplateVersionsCommand({
      LaunchTemplateId: templateId,
      Versions: ['$Default']
    })
  )
  const mappings = out.LaunchTemplateVersions?.[0]?.LaunchTemplateData?.BlockDeviceMappings
  return mappings?.find((m) => m.DeviceName === '/dev/sdf')?.Ebs?.SnapshotId
}

/**
 * What published-versions says after a first deploy to each world's group: one entry a
 * template, in the worlds' order, version 2 its new default over its own group.
 */
export function firstPublishedVersions(...worlds: CodeVolumeWorld[]) {
  return worlds.map((w) => ({
    launchTemplateId: w.launchTemplateId,
    launchTemplateName: w.launchTemplateName,
    version: 2,
    previousDefaultVersion: 1,
    isDefault: true,
    groups: [w.asgName]
  }))
}
