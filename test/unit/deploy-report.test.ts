import { describe, expect, it } from '@jest/globals'
import type { DeployResult } from '../../src/deploy/pipeline.js'
import { Phases } from '../../src/deploy/phases.js'
import type { Host } from '../../src/hosts/host.js'
import { deployReport } from '../../src/report/deploy.js'
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
  released: [],
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
})
