/**
 * Pre-flight: everything that can be checked with read-only calls is checked before the first
 * command is sent, so a wrong device, version or document, or a group that would never boot
 * the new code, fails the deploy before any host is touched. Dry run shows the same checks.
 */
import type { EC2Client, LaunchTemplateVersion } from '@aws-sdk/client-ec2'
import { DescribeDocumentCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { ActionError, awsErrorCode, SettingError, wrapAwsError } from '../errors.js'
import type { Log } from '../log.js'
import { pinnedGroupWarning } from '../snapshot/ops/groups.js'
import type { PreparedTarget } from '../snapshot/targets.js'
import { describeVersion } from '../snapshot/ops/template.js'
import { sameDevice } from '../snapshot/ops/device.js'
import { findCodeVolume } from '../snapshot/ops/volume.js'

export interface PreflightSubject {
  primary: string
  device: string
  document: string
  targets: readonly PreparedTarget[]
}

/** Runs every check; returns one line per check passed, or throws naming what is wrong. */
export async function preflight(
  clients: { ec2: EC2Client; ssm: SSMClient },
  subject: PreflightSubject,
  log: Log
): Promise<string[]> {
  const passed: string[] = []
  const volume = await findCodeVolume(clients.ec2, {
    kind: 'instance',
    instanceId: subject.primary,
    device: subject.device
  })
  passed.push(
    `The primary ${subject.primary} has its code volume ${volume.volumeId} at ${volume.device}.`
  )
  for (const { target, template, groups } of subject.targets) {
    const version = await sourceVersion(clients.ec2, template, target.sourceVersion)
    passed.push(
      `Launch template ${template.name} (${template.id}) has source version ${target.sourceVersion} (${version.VersionNumber}).`
    )
    const added = mappingToAdd(template, version, subject.device)
    if (added) {
      passed.push(added)
      log.info(added)
    }
    const pinned = groups.filter((g) => g.follows === 'pinned')
    if (pinned.length) {
      throw new ActionError(
        pinned.map((g) => pinnedGroupWarning(g, template, undefined)).join('\n') +
          '\nNothing was sent: deploying would leave the group launching old code.'
      )
    }
    for (const g of groups)
      passed.push(`Auto Scaling group ${g.name} follows ${g.version}: it boots the new code.`)
  }
  await documentExists(clients.ssm, subject.document)
  passed.push(`SSM document ${subject.document} exists.`)
  log.group(`Pre-flight: ${passed.length} checks passed`, passed)
  return passed
}

/**
 * A source version with no EBS mapping for the code device: the new version adds one (the
 * publish does it), so instances launched from it get a code volume they did not have before.
 * Said before anything changes, per template; undefined when the mapping is there.
 */
export function mappingToAdd(
  template: PreparedTarget['template'],
  version: LaunchTemplateVersion,
  device: string
): string | undefined {
  const mapping = (version.LaunchTemplateData?.BlockDeviceMappings ?? []).find(
    (m) => m.DeviceName && sameDevice(m.DeviceName, device)
  )
  if (mapping?.Ebs) return undefined
  const what = mapping
    ? `maps ${mapping.DeviceName} to no EBS volume: the new version replaces that mapping with one`
    : `has no mapping for ${device}: the new version adds one`
  return `Launch template ${template.name} (${template.id}) version ${version.VersionNumber} ${what} for the snapshot, so its instances get a code volume at ${device}.`
}

async function sourceVersion(
  ec2: EC2Client,
  template: PreparedTarget['template'],
  version: string
): Promise<LaunchTemplateVersion> {
  try {
    return await describeVersion(ec2, template.id, version)
  } catch (err) {
    if (
      !(err instanceof ActionError) &&
      awsErrorCode(err) !== 'InvalidLaunchTemplateId.VersionNotFound'
    )
      throw err
    throw new SettingError(
      'sourceVersion',
      `${JSON.stringify(version)} is not a version of launch template ${template.name} (${template.id}). Expected $Default, $Latest or a version from 1 to ${template.latestVersion}.`
    )
  }
}

async function documentExists(ssm: SSMClient, name: string): Promise<void> {
  try {
    await ssm.send(new DescribeDocumentCommand({ Name: name }))
  } catch (err) {
    if (awsErrorCode(err) === 'InvalidDocument') {
      throw new SettingError(
        'document',
        `${JSON.stringify(name)} is not an SSM document this account can run in this region. Expected e.g. "AWS-RunShellScript", or the name of your own Command document.`
      )
    }
    throw wrapAwsError('DescribeDocument', err)
  }
}
