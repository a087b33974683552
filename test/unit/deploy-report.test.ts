import { describe, expect, it } from '@jest/globals'
import type { DeployResult } from '../../src/deploy/types.js'
import { Phases } from '../../src/deploy/phases.js'
import type { Host } from '../../src/hosts/host.js'
import { deployReport, deployVerdict } from '../../src/report/deploy.js'
import type { TargetReport } from '../../src/snapshot/targets.js'
import { VirtualClock } from '../../support/virtual-clock.js'
import { RUN } from '../../support/fixtures.js'

const host = (instanceId: string, lifecycleState: string): Host => ({
  instanceId,
  state: 'running',
  launchTime: '2026-01-01T00:00:00Z',
  autoScalingGroup: 'shop-production',
  lifecycleState,
  tags: {}
})

const result = (hosts: Host[], locks: string[] = []): DeployResult => ({
  ok: true,
  hosts,
  locks,
  settled: [],
  phases: new Phases(new VirtualClock()),
  dryRun: false
})

describe('the deploy summary', () => {
  it('names the Standby members it deployed to, outside the folded host table', () => {
    const report = deployReport(
      result([host('i-0000000000000000a', 'InService'), host('i-0000000000000000b', 'Standby')]),
      RUN,
      'us-east-1'
    )
    expect(report).toContain(
      'In Standby (deployed like the others; they serve the new code after ExitStandby): `i-0000000000000000b`'
    )
    expect(report.indexOf('In Standby')).toBeGreaterThan(report.indexOf('</details>'))
  })

  it('says nothing of Standby when no member is in it, and lists the deploy locks', () => {
    const report = deployReport(
      result(
        [host('i-0000000000000000a', 'InService')],
        ['Held the deploy lock /ebs-autoscale/lock/lt-0123456789abcdef0.']
      ),
      RUN,
      'us-east-1'
    )
    expect(report).not.toContain('Standby')
    expect(report).toContain('- Held the deploy lock /ebs-autoscale/lock/lt-0123456789abcdef0.')
  })

  it('says what each template boots when it published to several', () => {
    const target = (id: string, name: string, version: number, isDefault = true) =>
      ({
        template: { id, name, defaultVersion: version - 1, latestVersion: version - 1 },
        groups: [],
        refreshes: [],
        published: {
          launchTemplateId: id,
          snapshotId: 'snap-0123456789abcdef0',
          version,
          isDefault
        }
      }) as unknown as TargetReport
    const deployed = (targets: TargetReport[]): DeployResult => ({
      ...result([host('i-0000000000000000a', 'InService')]),
      publish: { targets } as DeployResult['publish']
    })
    expect(
      deployVerdict(deployed([target('lt-0a', 'web-lt', 2), target('lt-0b', 'worker-lt', 7)]), {
        ...RUN,
        repository: ''
      })
    ).toBe(
      '**Deployed** to 0 host(s); new instances boot from `snap-0123456789abcdef0` (the new default version of each launch template: web-lt v2, worker-lt v7).'
    )
    expect(
      deployVerdict(deployed([target('lt-0a', 'web-lt', 2)]), { ...RUN, repository: '' })
    ).toBe(
      '**Deployed** to 0 host(s); new instances boot from `snap-0123456789abcdef0` (launch template version 2, the default).'
    )
  })
})
