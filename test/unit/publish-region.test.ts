/**
 * Publish targets carry their region: one in another region than the clients' is refused before
 * any call (copying the snapshot there first would be a phase of its own, with that region's
 * clients), naming both regions; one in the clients' region, or with none, goes on.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { DescribeLaunchTemplatesCommand, EC2Client } from '@aws-sdk/client-ec2'
import { mockClient } from 'aws-sdk-client-mock'
import { prepareTargets } from '../../src/snapshot/targets.js'

const ec2Mock = mockClient(EC2Client)
const asgMock = mockClient(AutoScalingClient)
const clients = {
  region: 'eu-west-1',
  ec2: new EC2Client({ region: 'eu-west-1' }),
  autoscaling: new AutoScalingClient({ region: 'eu-west-1' })
}
const target = { launchTemplate: 'lt-0123456789abcdef0', sourceVersion: '$Default', groups: [] }

describe('publish targets and their region', () => {
  beforeEach(() => {
    ec2Mock.reset()
    asgMock.reset()
  })

  it('refuses a target in another region before any call, naming both', async () => {
    await expect(
      prepareTargets(clients, { targets: [{ ...target, region: 'us-east-1' }] })
    ).rejects.toThrow(
      'Setting "region": is eu-west-1, and launch template lt-0123456789abcdef0 is in us-east-1.'
    )
    expect(ec2Mock.calls()).toHaveLength(0)
  })

  it("prepares a target in the clients' region", async () => {
    ec2Mock.on(DescribeLaunchTemplatesCommand).resolves({
      LaunchTemplates: [
        {
          LaunchTemplateId: 'lt-0123456789abcdef0',
          LaunchTemplateName: 'shop',
          DefaultVersionNumber: 1,
          LatestVersionNumber: 1
        }
      ]
    })
    const prepared = await prepareTargets(clients, {
      targets: [{ ...target, region: 'eu-west-1' }]
    })
    expect(prepared.map((p) => p.template.id)).toEqual(['lt-0123456789abcdef0'])
  })
})
