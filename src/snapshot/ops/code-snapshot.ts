/**
 * Which snapshot a launch template version's code device boots. "New code" means exactly
 * this: a version boots the new code when its code mapping points at the new snapshot,
 * whatever its number (someone else's later version may well boot the old code).
 */
import type { EC2Client, LaunchTemplateVersion } from '@aws-sdk/client-ec2'
import { sameDevice } from './device.js'
import { describeVersion } from './template.js'

export function codeSnapshotOf(
  version: LaunchTemplateVersion | undefined,
  device: string
): string | undefined {
  const mappings = version?.LaunchTemplateData?.BlockDeviceMappings ?? []
  const code = mappings.find((m) => m.DeviceName && sameDevice(m.DeviceName, device))
  return code?.Ebs?.SnapshotId
}

/** The snapshot one version (a number, `$Default` or `$Latest`) maps the code device to. */
export async function versionCodeSnapshot(
  ec2: EC2Client,
  templateId: string,
  version: number | string,
  device: string
): Promise<string | undefined> {
  return codeSnapshotOf(await describeVersion(ec2, templateId, String(version)), device)
}
