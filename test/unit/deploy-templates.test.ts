/**
 * Which launch templates a deploy over several groups publishes to (src/deploy/templates.ts):
 * one target per distinct template, with the groups that use it; an explicit launch-template
 * must be every group's.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  type AutoScalingGroup,
  DescribeAutoScalingGroupsCommand
} from '@aws-sdk/client-auto-scaling'
import { DescribeLaunchTemplatesCommand } from '@aws-sdk/client-ec2'
import { deployTargets } from '../../src/deploy/templates.js'
import { SettingError } from '../../src/errors.js'
import type { Host } from '../../src/hosts/host.js'
import { mockAws } from '../../support/scripted-deploy.js'

const { ec2Mock, asgMock, clients } = mockAws()
const WEB = 'lt-0aaaaaaaaaaaaaaa0'
const WORKER = 'lt-0bbbbbbbbbbbbbbb0'
const SPOT = 'lt-0ccccccccccccccc0'
const TEMPLATES: Record<string, string> = { 'web-lt': WEB, 'worker-lt': WORKER, 'spot-lt': SPOT }
const primary: Host = {
  instanceId: 'i-0123456789abcdef0',
  state: 'running',
  launchTime: '',
  tags: {},
  launchTemplateId: WEB
}
const target = { sourceVersion: '$Default' }

const group = (name: string, extra: Partial<AutoScalingGroup>): AutoScalingGroup =>
  ({ AutoScalingGroupName: name, ...extra }) as AutoScalingGroup

beforeEach(() => {
  ec2Mock.reset()
  asgMock.reset()
  ec2Mock
    .on(DescribeLaunchTemplatesCommand)
    .callsFake((input: { LaunchTemplateNames?: string[]; LaunchTemplateIds?: string[] }) => {
      const name =
        input.LaunchTemplateNames?.[0] ??
        Object.keys(TEMPLATES).find((n) => TEMPLATES[n] === input.LaunchTemplateIds?.[0])!
      return {
        LaunchTemplates: [
          {
            LaunchTemplateId: TEMPLATES[name],
            LaunchTemplateName: name,
            DefaultVersionNumber: 1,
            LatestVersionNumber: 1
          }
        ]
      }
    })
})

describe('deployTargets', () => {
  it('makes one target per distinct template, with the groups using it, in the order named', async () => {
    const groups = [
      group('web-asg', { LaunchTemplate: { LaunchTemplateId: WEB, Version: '$Default' } }),
      // By name: the same template as web-asg's, so the same target.
      group('web-canary-asg', { LaunchTemplate: { LaunchTemplateName: 'web-lt' } }),
      group('worker-asg', {
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: { LaunchTemplateName: 'worker-lt' },
            // An override's own template launches instances too: it gets the code as well.
            Overrides: [
              { InstanceType: 'c7g.large', LaunchTemplateSpecification: { LaunchTemplateId: SPOT } }
            ]
          }
        }
      })
    ]
    expect(await deployTargets(clients, target, { groups, hosts: [primary] })).toEqual([
      { sourceVersion: '$Default', launchTemplate: WEB, groups: ['web-asg', 'web-canary-asg'] },
      { sourceVersion: '$Default', launchTemplate: WORKER, groups: ['worker-asg'] },
      { sourceVersion: '$Default', launchTemplate: SPOT, groups: ['worker-asg'] }
    ])
  })

  it('without groups, publishes to the template the primary was launched from', async () => {
    expect(await deployTargets(clients, target, { groups: [], hosts: [primary] })).toEqual([
      { sourceVersion: '$Default', launchTemplate: WEB }
    ])
  })

  it('takes an explicit launch-template every group uses, with all the groups', async () => {
    const groups = [
      group('web-asg', { LaunchTemplate: { LaunchTemplateId: WEB } }),
      group('web-spot-asg', {
        MixedInstancesPolicy: {
          LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateName: 'web-lt' } }
        }
      })
    ]
    expect(
      await deployTargets(
        clients,
        { ...target, launchTemplate: 'web-lt' },
        { groups, hosts: [primary] }
      )
    ).toEqual([
      { sourceVersion: '$Default', launchTemplate: WEB, groups: ['web-asg', 'web-spot-asg'] }
    ])
  })

  it('refuses an explicit launch-template a group does not use, naming the group and its template', async () => {
    const groups = [
      group('web-asg', { LaunchTemplate: { LaunchTemplateId: WEB } }),
      group('worker-asg', { LaunchTemplate: { LaunchTemplateName: 'worker-lt' } })
    ]
    const err = await deployTargets(
      clients,
      { ...target, launchTemplate: WEB },
      { groups, hosts: [primary] }
    ).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(SettingError)
    expect((err as Error).message).toBe(
      `Setting "launchTemplate": is web-lt (${WEB}), but Auto Scaling group worker-asg launches from launch template worker-lt. Expected the template every group in groups launches from, or leave launchTemplate empty to publish to each group's own template.`
    )
  })

  it('refuses a group that launches from no launch template, by name', async () => {
    const groups = [
      group('web-asg', { LaunchTemplate: { LaunchTemplateId: WEB } }),
      group('legacy-asg', { LaunchConfigurationName: 'legacy-lc' })
    ]
    await expect(deployTargets(clients, target, { groups, hosts: [primary] })).rejects.toThrow(
      'Setting "groups": Auto Scaling group legacy-asg launches from no launch template (a launch configuration?), so no template version can boot the new code. Expected groups that launch from a launch template.'
    )
  })

  describe('with hosts found by tags only', () => {
    /** Auto Scaling answers these groups (by name); any other does not exist. */
    function existing(...groups: AutoScalingGroup[]): void {
      asgMock
        .on(DescribeAutoScalingGroupsCommand)
        .callsFake((input: { AutoScalingGroupNames?: string[] }) => ({
          AutoScalingGroups: groups.filter((g) =>
            input.AutoScalingGroupNames?.includes(g.AutoScalingGroupName!)
          )
        }))
    }
    const host = (id: string, launchTemplateId?: string, autoScalingGroup?: string): Host => ({
      instanceId: id,
      state: 'running',
      launchTime: '',
      tags: {},
      ...(launchTemplateId ? { launchTemplateId } : {}),
      ...(autoScalingGroup ? { autoScalingGroup } : {})
    })

    it('publishes to every template the hosts’ groups launch from, the primary’s first', async () => {
      existing(
        group('web-asg', { LaunchTemplate: { LaunchTemplateId: WEB } }),
        group('web-spot-asg', { LaunchTemplate: { LaunchTemplateName: 'spot-lt' } })
      )
      const hosts = [
        host('i-0000000000000000a', WEB, 'web-asg'),
        host('i-0000000000000000b', SPOT, 'web-spot-asg'),
        host('i-0000000000000000c', WEB, 'web-asg')
      ]
      expect(await deployTargets(clients, target, { groups: [], hosts })).toEqual([
        { sourceVersion: '$Default', launchTemplate: WEB },
        { sourceVersion: '$Default', launchTemplate: SPOT }
      ])
      // Each group read once.
      expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(2)
    })

    it('takes a group’s template as it is now, and an ungrouped host’s (or a deleted group’s) own', async () => {
      // worker-asg moved to spot-lt since it launched its host from worker-lt.
      existing(group('worker-asg', { LaunchTemplate: { LaunchTemplateId: SPOT } }))
      const hosts = [
        host('i-0000000000000000a', WEB),
        host('i-0000000000000000b', WORKER, 'worker-asg'),
        host('i-0000000000000000c', WORKER, 'gone-asg')
      ]
      expect(await deployTargets(clients, target, { groups: [], hosts })).toEqual([
        { sourceVersion: '$Default', launchTemplate: WEB },
        { sourceVersion: '$Default', launchTemplate: SPOT },
        { sourceVersion: '$Default', launchTemplate: WORKER }
      ])
    })

    it('refuses an explicit launch-template when the tagged hosts came from another one too', async () => {
      existing(
        group('web-asg', { LaunchTemplate: { LaunchTemplateId: WEB } }),
        group('web-spot-asg', { LaunchTemplate: { LaunchTemplateName: 'spot-lt' } })
      )
      const hosts = [
        host('i-0000000000000000a', WEB, 'web-asg'),
        host('i-0000000000000000b', SPOT, 'web-spot-asg')
      ]
      const given = { ...target, launchTemplate: 'web-lt' }
      await expect(deployTargets(clients, given, { groups: [], hosts })).rejects.toThrow(
        `Setting "launchTemplate": is web-lt (${WEB}), but some hosts were launched from launch template ${SPOT} too: the next instances launched from it would boot the old code. Nothing was changed.`
      )
      // Hosts all from the template given: that one target.
      const webOnly = [hosts[0]!]
      expect(await deployTargets(clients, given, { groups: [], hosts: webOnly })).toEqual([
        { sourceVersion: '$Default', launchTemplate: WEB }
      ])
    })

    it('refuses, before any change, groups of the hosts that launch from no template, naming them', async () => {
      existing(
        group('web-asg', { LaunchTemplate: { LaunchTemplateId: WEB } }),
        group('legacy-asg', { LaunchConfigurationName: 'legacy-lc' }),
        group('old-asg', { LaunchConfigurationName: 'old-lc' })
      )
      const hosts = [
        host('i-0000000000000000a', WEB, 'web-asg'),
        host('i-0000000000000000b', undefined, 'legacy-asg'),
        host('i-0000000000000000c', undefined, 'old-asg')
      ]
      await expect(deployTargets(clients, target, { groups: [], hosts })).rejects.toThrow(
        'The hosts include members of Auto Scaling groups legacy-asg, old-asg, which launch from no launch template (a launch configuration?): ' +
          'no template version can boot the new code there, so their next instances would boot the old code. Nothing was changed. ' +
          'Expected every group the hosts belong to to launch from a launch template, or name the groups to deploy with asg-name.'
      )
    })
  })
})
