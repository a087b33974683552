/**
 * The least-privilege policies in examples/iam/ grant exactly what each action can call: every
 * AWS operation reachable from the action's entry point (read from the source: each `new
 * XCommand(` and `paginateX(` of an SDK client, through the imports), plus the permissions AWS
 * requires implicitly. A policy that misses one, or grants one never called, fails here.
 */
import { describe, expect, it } from '@jest/globals'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { snapshotTags, TAG } from '../../src/snapshot/ops/tags.js'
import { RUN } from '../../support/fixtures.js'
import { ROOT } from '../../support/emulator/install.mjs'
import { allowing, ENTRIES, granted, list, operations } from '../helpers/iam-policies.js'

/** Tags written after creation, by CreateTags on the snapshot: the status and why it failed. */
const LATER_KEYS: string[] = [TAG.status, TAG.failure].sort()
/**
 * Tags written at creation, as the code writes them for a snapshot made for a template (every
 * optional tag present): the policy must allow exactly these keys.
 */
const CREATION_KEYS = Object.keys(
  snapshotTags(
    'shop',
    RUN,
    {
      volumeId: 'vol-1',
      availabilityZone: 'us-east-1a',
      sizeGiB: 8,
      encrypted: false,
      instanceId: 'i-1'
    },
    '/dev/sdf',
    {},
    'lt-0123456789abcdef0',
    '3f9c2ab'
  )
).sort()
const REPOSITORY = 'acme/shop'
const WITH_SNAPSHOTS = ['deploy', 'snapshot']

describe('least-privilege IAM policies', () => {
  it.each(Object.entries(ENTRIES))(
    'examples/iam/%s.json grants exactly what it can call',
    (name, entry) => {
      expect(granted(name)).toEqual(operations(entry))
    }
  )

  it('finds the calls it should (the scan itself can fail)', () => {
    expect(operations(ENTRIES['resolve-hosts']!)).toEqual([
      'autoscaling:DescribeAutoScalingGroups',
      'ec2:DescribeInstances'
    ])
    expect(operations(ENTRIES['rollout']!)).toEqual(
      expect.arrayContaining([
        'ssm:SendCommand',
        'ssm:CancelCommand',
        'ssm:DescribeInstanceInformation'
      ])
    )
  })

  it.each(WITH_SNAPSHOTS)(
    "examples/iam/%s.json allows ec2:CreateTags only at CreateSnapshot, or for the status on this repository's snapshots",
    (name) => {
      const statements = allowing(name, 'ec2:CreateTags').filter((s) =>
        list(s.Resource).some((r) => r.includes(':snapshot/'))
      )
      expect(statements.map((s) => s.Condition === undefined)).toEqual([false, false])
      for (const s of statements) expect(list(s.Action)).toEqual(['ec2:CreateTags'])
      expect(statements.map((s) => s.Condition)).toEqual([
        { StringEquals: { 'ec2:CreateAction': 'CreateSnapshot' } },
        {
          StringEquals: {
            'aws:ResourceTag/ebs-autoscale:repository': REPOSITORY,
            'aws:RequestTag/ebs-autoscale:status': ['published', 'failed']
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': LATER_KEYS }
        }
      ])
    }
  )

  it.each(WITH_SNAPSHOTS)(
    "examples/iam/%s.json creates only snapshots tagged as this repository's, with only the keys it writes",
    (name) => {
      const onSnapshots = allowing(name, 'ec2:CreateSnapshot').filter((s) =>
        list(s.Resource).some((r) => r.includes(':snapshot/'))
      )
      expect(onSnapshots.map((s) => s.Condition)).toEqual([
        {
          StringEquals: { 'aws:RequestTag/ebs-autoscale:repository': REPOSITORY },
          'ForAllValues:StringEquals': { 'aws:TagKeys': CREATION_KEYS }
        }
      ])
      // The volume statement must not reach snapshots, and only reaches this environment's
      // volumes: those the launch template tags Role and Environment.
      for (const s of allowing(name, 'ec2:CreateSnapshot').filter((x) => !x.Condition)) {
        expect(list(s.Resource).every((r) => r.includes(':volume/'))).toBe(true)
      }
      const onVolumes = allowing(name, 'ec2:CreateSnapshot').filter((s) =>
        list(s.Resource).some((r) => r.includes(':volume/'))
      )
      expect(onVolumes.map((s) => [list(s.Resource), s.Condition])).toEqual([
        [
          ['arn:aws:ec2:eu-west-1:123456789012:volume/*'],
          {
            StringEquals: {
              'aws:ResourceTag/Role': 'app',
              'aws:ResourceTag/Environment': 'production'
            }
          }
        ]
      ])
    }
  )

  it.each(['deploy', 'rollout'])(
    "examples/iam/%s.json tags only this environment's instances, and only with their release",
    (name) => {
      const onInstances = allowing(name, 'ec2:CreateTags').filter((s) =>
        list(s.Resource).some((r) => r.includes(':instance/'))
      )
      expect(onInstances.map((s) => s.Condition)).toEqual([
        {
          StringEquals: {
            'aws:ResourceTag/Role': 'app',
            'aws:ResourceTag/Environment': 'production'
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TAG.release] }
        }
      ])
    }
  )

  it('no policy allows ec2:CreateTags without a condition', () => {
    for (const name of Object.keys(ENTRIES)) {
      if (!existsSync(join(ROOT, 'examples/iam', `${name}.json`))) continue
      const bare = allowing(name, 'ec2:CreateTags').filter((s) => !s.Condition)
      expect([name, bare]).toEqual([name, []])
    }
  })

  it('no policy grants a wildcard action', () => {
    for (const name of Object.keys(ENTRIES)) {
      if (!existsSync(join(ROOT, 'examples/iam', `${name}.json`))) continue
      expect(granted(name).filter((a) => a.includes('*'))).toEqual([])
    }
  })
})
