/**
 * The publish phase: the completed snapshot becomes a new version of each target's template
 * (ops/publish-version.ts, made the default unless set-default is false), and each target
 * says what its groups will launch. A target that fails is reported and the others still
 * publish; one whose version exists but lost to someone else's change reports both.
 */
import { TAG } from './ops/tags.js'
import type { EC2Client } from '@aws-sdk/client-ec2'
import { errorMessage } from '../errors.js'
import type { Provenance } from '../model/provenance.js'
import type { Log } from '../log.js'
import { pinnedGroupWarning } from './ops/groups.js'
import { DefaultConflictError, publishVersion } from './ops/publish-version.js'
import type { PreparedTarget, PublishSettings, TargetReport } from './targets.js'
import type { CreatedSnapshot, GroupUsage, PublishedSnapshot } from './types.js'
import type { LaunchTemplateRef } from './ops/template.js'

export async function publishToTargets(
  ec2: EC2Client,
  snapshot: CreatedSnapshot,
  prepared: readonly PreparedTarget[],
  settings: Pick<PublishSettings, 'device' | 'setDefault' | 'volumeInitializationRate'>,
  context: { run: Provenance; dryRun: boolean; log: Log }
): Promise<TargetReport[]> {
  const reports: TargetReport[] = []
  for (const { target, template, groups } of prepared) {
    const report: TargetReport = { template, groups, refreshes: [] }
    reports.push(report)
    try {
      report.published = await publishVersion(ec2, {
        launchTemplate: target.launchTemplate,
        sourceVersion: target.sourceVersion,
        setDefault: settings.setDefault,
        snapshotId: snapshot.snapshotId,
        device: settings.device,
        ...(settings.volumeInitializationRate !== undefined
          ? { volumeInitializationRate: settings.volumeInitializationRate }
          : {}),
        volume: snapshot.volume,
        ...(snapshot.tags[TAG.release] ? { release: snapshot.tags[TAG.release] } : {}),
        run: context.run,
        expectedDefaultVersion: template.defaultVersion,
        dryRun: context.dryRun,
        log: context.log
      })
      reportGroups(groups, template, report.published, context.log)
    } catch (err) {
      // Someone else changed the template meanwhile: the version exists, reported beside it.
      if (err instanceof DefaultConflictError && err.published) report.published = err.published
      report.failure = { phase: 'publish', message: errorMessage(err) }
    }
  }
  return reports
}

function reportGroups(
  groups: readonly GroupUsage[],
  template: LaunchTemplateRef,
  published: PublishedSnapshot,
  log: Log
): void {
  if (groups.length === 0) {
    log.info(`No Auto Scaling group launches from ${template.name} (${template.id}).`)
  }
  for (const g of groups) {
    if (g.follows === 'pinned') {
      log.warning(pinnedGroupWarning(g, template, published.version), {
        title: `Auto Scaling group ${g.name} is pinned to version ${g.version}`
      })
    } else if (g.follows === 'default' && !published.isDefault && !published.dryRun) {
      log.warning(
        `Auto Scaling group ${g.name} follows the default version, which is still ${published.previousDefaultVersion} (set-default: false): it keeps launching old code.`
      )
    } else {
      log.info(`Auto Scaling group ${g.name} follows ${g.version}: new instances get the new code.`)
    }
  }
}
