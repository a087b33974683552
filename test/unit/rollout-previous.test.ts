/**
 * The rollout action's launch-template and device: parsed strictly before any AWS call, and
 * read (as deploy reads its template) into what a rollback gets as EBS_AUTOSCALE_PREVIOUS_*.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeSnapshotsCommand,
  EC2Client
} from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { readRolloutFlowOptions } from '../../src/actions/rollout/options.js'
import { readPreviousRelease } from '../../src/flows/previous.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { RUN } from '../../support/fixtures.js'
import { RecordingLog } from '../helpers/log.js'
import { failureOf } from '../helpers/failure.js'
import { FIELDS } from '../../src/actions/rollout/fields.js'

/** The rollout action's inputs with hosts and commands set; its rollback source as read. */
const source = (values: Record<string, string>, hasRollback = true) => {
  const all: Record<string, string> = {
    'instance-ids': 'i-0123456789abcdef0',
    commands: './deploy',
    ...(hasRollback ? { 'rollback-commands': './rollback' } : {}),
    ...values
  }
  return readRolloutFlowOptions(new Inputs((name) => all[name] ?? ''), RUN).previousFrom
}

describe('the rollout action reads where a rollback returns to', () => {
  it('is undefined without launch-template', () => {
    expect(source({})).toBeUndefined()
    expect(source({}, false)).toBeUndefined()
  })

  it('takes a name or an id, with device defaulting to /dev/sdf as in deploy', () => {
    expect(source({ 'launch-template': 'app-lt' })).toEqual({
      launchTemplate: 'app-lt',
      device: '/dev/sdf'
    })
    expect(source({ 'launch-template': 'lt-0123456789abcdef0', device: 'xvdg' })).toEqual({
      launchTemplate: 'lt-0123456789abcdef0',
      device: 'xvdg'
    })
  })

  it('refuses a value that is no template name, quoting it', () => {
    expect(failureOf(() => source({ 'launch-template': 'app lt!' }), FIELDS)).toContain(
      'Input "launch-template": "app lt!" is neither a launch template id nor a name. Expected e.g. "lt-0123456789abcdef0" or "app-servers".'
    )
  })

  it('refuses a bad device, even without launch-template', () => {
    expect(failureOf(() => source({ device: 'C:' }), FIELDS)).toContain(
      'Input "device": "C:" is not an EBS device name.'
    )
  })

  it('refuses launch-template without rollback-commands: it would do nothing', () => {
    expect(failureOf(() => source({ 'launch-template': 'app-lt' }, false), FIELDS)).toContain(
      'Input "launch-template": "app-lt" is set without rollback-commands. Expected rollback-commands with it'
    )
  })
})

describe('readPreviousRelease', () => {
  const ec2Mock = mockClient(EC2Client)
  const ec2 = new EC2Client({ region: 'us-east-1' })
  let log: RecordingLog
  beforeEach(() => {
    ec2Mock.reset()
    log = new RecordingLog()
  })

  it("reads the default version's snapshot at the device (by alias) and its commit tag", async () => {
    ec2Mock.on(DescribeLaunchTemplatesCommand, { LaunchTemplateNames: ['app-lt'] }).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: 'lt-0123456789abcdef0',
          LaunchTemplateName: 'app-lt',
          DefaultVersionNumber: 4,
          LatestVersionNumber: 5
        }
      ]
    })
    ec2Mock
      .on(DescribeLaunchTemplateVersionsCommand, {
        LaunchTemplateId: 'lt-0123456789abcdef0',
        Versions: ['4']
      })
      .resolves({
        LaunchTemplateVersions: [
          {
            VersionNumber: 4,
            LaunchTemplateData: {
              BlockDeviceMappings: [
                { DeviceName: '/dev/xvda', Ebs: { SnapshotId: 'snap-00000000000000001' } },
                { DeviceName: '/dev/xvdf', Ebs: { SnapshotId: 'snap-0123456789abcdef0' } }
              ]
            }
          }
        ]
      })
    ec2Mock.on(DescribeSnapshotsCommand, { SnapshotIds: ['snap-0123456789abcdef0'] }).resolves({
      Snapshots: [{ Tags: [{ Key: 'ebs-autoscale:commit', Value: 'c0ffee' }] }]
    })
    const previous = await readPreviousRelease(
      ec2,
      { launchTemplate: 'app-lt', device: 'sdf' },
      log
    )
    expect(previous).toEqual({ commit: 'c0ffee', snapshotId: 'snap-0123456789abcdef0' })
    expect(log.messages('info')).toEqual([
      'A rollback would return to c0ffee (snap-0123456789abcdef0): what launch template app-lt (lt-0123456789abcdef0) default version 4 maps at sdf.'
    ])
  })

  it('fails by name when the template does not exist', async () => {
    ec2Mock.on(DescribeLaunchTemplatesCommand).rejects(
      Object.assign(
        new Error('At least one of the launch templates specified in the request does not exist.'),
        {
          name: 'InvalidLaunchTemplateName.NotFoundException'
        }
      )
    )
    await expect(
      readPreviousRelease(ec2, { launchTemplate: 'gone-lt', device: '/dev/sdf' }, log)
    ).rejects.toThrow(
      'Setting "launchTemplate": "gone-lt" could not be read: DescribeLaunchTemplates failed: InvalidLaunchTemplateName.NotFoundException: '
    )
  })
})
