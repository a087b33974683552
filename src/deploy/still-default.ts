/**
 * The deploy's last look, after catch-up: each template published to must still have a
 * default that boots the new snapshot. Someone else may make another version the default
 * after the publish read it back (Terraform, the console); the step must not then end green
 * while new instances boot the old code.
 */
import type { EC2Client } from '@aws-sdk/client-ec2'
import type { Failure } from '../model/failure.js'
import { versionCodeSnapshot } from '../snapshot/ops/code-snapshot.js'
import { describeLaunchTemplate } from '../snapshot/ops/template.js'
import type { TargetReport } from '../snapshot/targets.js'

export async function stillDefault(
  ec2: EC2Client,
  targets: readonly TargetReport[]
): Promise<Failure | undefined> {
  const lines: string[] = []
  for (const { published: p } of targets) {
    if (!p?.isDefault || p.version === undefined || p.dryRun) continue
    const now = await describeLaunchTemplate(ec2, p.launchTemplateId)
    if (now.defaultVersion === p.version) continue
    const boots = await versionCodeSnapshot(ec2, p.launchTemplateId, now.defaultVersion, p.device)
    if (boots === p.snapshotId) continue
    lines.push(
      `The default version of ${p.launchTemplateName} (${p.launchTemplateId}) is now ${now.defaultVersion}, made the default by someone else after this step made version ${p.version} the default; ` +
        `it boots ${boots ?? 'no snapshot'} on ${p.device}, not the new snapshot ${p.snapshotId}: new instances boot the old code. ` +
        `Run the deploy again to make the new code's version from it, or make version ${p.version} the default again: aws ec2 modify-launch-template --launch-template-id ${p.launchTemplateId} --default-version ${p.version}.`
    )
  }
  return lines.length ? { phase: 'publish', message: lines.join(' ') } : undefined
}
