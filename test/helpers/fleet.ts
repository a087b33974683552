/**
 * Readers of an emulator world's end state, as the tests compare it: a group's members, a
 * template's versions and the snapshot each boots, the snapshot behind an instance's volume.
 */
import { DescribeLaunchTemplateVersionsCommand, DescribeVolumesCommand } from '@aws-sdk/client-ec2'
import { describeGroup } from '../../src/hosts/resolve.js'
import type { CodeVolumeWorld, TestClients } from '../../support/emulator/world.js'

/** The group's members, sorted by id. */
export async function members(c: TestClients, asgName: string): Promise<string[]> {
  const group = await describeGroup(c.autoscaling, asgName)
  return (group?.Instances ?? []).map((i) => i.InstanceId!).sort()
}

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

/** The volumes attached to the instance at `device`. */
export async function volumesAt(c: TestClients, instanceId: string, device = '/dev/sdf') {
  const out = await c.ec2.send(
    new DescribeVolumesCommand({
      Filters: [
        { Name: 'attachment.instance-id', Values: [instanceId] },
        { Name: 'attachment.device', Values: [device] }
      ]
    })
  )
  return out.Volumes ?? []
}

/** The snapshot the instance's volume at `device` was made from. */
export async function volumeSnapshotAt(
  c: TestClients,
  instanceId: string,
  device = '/dev/sdf'
): Promise<string | undefined> {
  return (await volumesAt(c, instanceId, device))[0]?.SnapshotId
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
