/** A publish that fails after CreateLaunchTemplateVersion: what state it says the template is in. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  CreateLaunchTemplateVersionCommand,
  CreateTagsCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  EC2Client,
  ModifyLaunchTemplateCommand
} from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { publishVersion } from '../../src/snapshot/ops/publish-version.js'
import { publishToken } from '../../src/snapshot/ops/token.js'
import { RecordingLog } from '../helpers/log.js'
import { RUN } from '../../support/fixtures.js'

const ec2Mock = mockClient(EC2Client)
const ec2 = new EC2Client({ region: 'us-east-1', maxAttempts: 1 })
const LT = 'lt-0123456789abcdef0'
const SNAP = 'snap-0new000000000000a'

const throttled = Object.assign(new Error('Rate exceeded'), {
  name: 'RequestLimitExceeded',
  $metadata: { httpStatusCode: 503 }
})

const options = {
  launchTemplate: LT,
  sourceVersion: '$Default',
  snapshotId: SNAP,
  device: '/dev/sdf',
  volume: { sizeGiB: 20, volumeType: 'gp3', encrypted: false },
  run: RUN,
  setDefault: true,
  log: new RecordingLog()
}

describe('a publish that fails after the new version was created', () => {
  beforeEach(() => {
    ec2Mock.reset()
    ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: LT,
          LaunchTemplateName: 'app-lt',
          DefaultVersionNumber: 3,
          LatestVersionNumber: 4
        }
      ]
    })
    ec2Mock.on(DescribeLaunchTemplateVersionsCommand).resolves({
      LaunchTemplateVersions: [
        { LaunchTemplateId: LT, VersionNumber: 3, LaunchTemplateData: { BlockDeviceMappings: [] } }
      ]
    })
    ec2Mock.on(CreateLaunchTemplateVersionCommand).resolves({
      LaunchTemplateVersion: { LaunchTemplateId: LT, VersionNumber: 5 }
    })
  })

  it('says version N exists, the default is unchanged, and how to finish, when ModifyLaunchTemplate is throttled', async () => {
    ec2Mock.on(ModifyLaunchTemplateCommand).rejects(throttled)
    const publishing = publishVersion(ec2, options)
    await expect(publishing).rejects.toThrow(
      `Version 5 of app-lt (${LT}) was created from snapshot ${SNAP}, but could not be made the default: ` +
        'ModifyLaunchTemplate failed: RequestLimitExceeded: Rate exceeded'
    )
    await expect(publishing).rejects.toThrow(
      'The template is left so: version 5 exists, the default is version 3, and new instances boot that default. ' +
        `To publish it: aws ec2 modify-launch-template --launch-template-id ${LT} --default-version 5. ` +
        'Running the workflow again takes a new snapshot and creates another version instead.'
    )
    // Never tagged published: the snapshot is not what new instances boot.
    expect(ec2Mock).toHaveReceivedCommandTimes(CreateTagsCommand, 0)
  })

  it('creates the version with a token that is the same for every attempt of the run', async () => {
    ec2Mock.on(ModifyLaunchTemplateCommand).callsFake(() => {
      // Read back after ModifyLaunchTemplate: version 5 is the default.
      ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
        LaunchTemplates: [
          {
            LaunchTemplateId: LT,
            LaunchTemplateName: 'app-lt',
            DefaultVersionNumber: 5,
            LatestVersionNumber: 5
          }
        ]
      })
      return {}
    })
    await publishVersion(ec2, options)
    await publishVersion(ec2, { ...options, run: { ...RUN, runAttempt: '2' } })
    const tokens = ec2Mock
      .commandCalls(CreateLaunchTemplateVersionCommand)
      .map((c) => c.args[0].input.ClientToken)
    expect(tokens).toEqual([
      publishToken(RUN, LT, '/dev/sdf', SNAP, 3),
      publishToken(RUN, LT, '/dev/sdf', SNAP, 3)
    ])
  })
})
