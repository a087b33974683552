import { describe, expect, it } from '@jest/globals'
import { releaseSection } from '../../src/report/release.js'
import type { TargetReport } from '../../src/snapshot/targets.js'

describe('the releases in a summary', () => {
  it('says what was shipped and which host and template version runs which release', () => {
    const target = {
      template: { id: 'lt-0a', name: 'shop-production', defaultVersion: 4, latestVersion: 4 },
      groups: [],
      refreshes: [],
      published: { version: 5, isDefault: true }
    } as unknown as TargetReport
    const text = releaseSection(
      {
        id: '3f9c2ab',
        uploaded: false,
        s3Requests: { HeadObject: 1, GetObject: 1 },
        hosts: { 'i-0a': '3f9c2ab', 'i-0b': '3f9c2ab', 'i-0c': '1e2d3c4' }
      },
      [target],
      { 'ebs-autoscale:release': '3f9c2ab' }
    )
    expect(text).toContain(
      'Release `3f9c2ab`: already in the bucket, nothing uploaded (S3 requests: HeadObject 1, GetObject 1).'
    )
    expect(text).toContain('| `3f9c2ab` | `i-0a` `i-0b` |')
    expect(text).toContain('| `1e2d3c4` | `i-0c` |')
    expect(text).toContain('| `3f9c2ab` | launch template shop-production v5 (default) |')
  })

  it('is empty without a release', () => {
    expect(releaseSection(undefined)).toBe('')
  })
})
