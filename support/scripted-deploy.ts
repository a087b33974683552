/**
 * A deploy against scripted AWS, for unit tests and benchmarks: the SDK clients mocked with
 * aws-sdk-client-mock, hosts in the simulated EC2/Auto Scaling world (ec2-world.ts) and the
 * simulated SSM fleet (ssm-fleet.ts), all on one virtual clock.
 */
import { S3Client } from '@aws-sdk/client-s3'
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { EC2Client } from '@aws-sdk/client-ec2'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { DescribeDocumentCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import type { Clients } from '../src/aws/clients.js'
import { SimulatedEc2 } from './ec2-world.js'
import { SimulatedFleet } from './ssm-fleet.js'
import { VirtualClock } from './virtual-clock.js'

export function mockAws() {
  const ec2Mock = mockClient(EC2Client)
  const asgMock = mockClient(AutoScalingClient)
  const ssmMock = mockClient(SSMClient)
  const clients: Clients = {
    region: 'us-east-1',
    ec2: new EC2Client({ region: 'us-east-1' }),
    ssm: new SSMClient({ region: 'us-east-1' }),
    autoscaling: new AutoScalingClient({ region: 'us-east-1' }),
    elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
    s3: new S3Client({ region: 'us-east-1' }),
    cloudwatch: new CloudWatchClient({ region: 'us-east-1' })
  }
  return { ec2Mock, asgMock, ssmMock, clients }
}

export type MockedAws = ReturnType<typeof mockAws>

/**
 * Resets the mocks and scripts a fleet: `ids` launched a day ago one second apart (the first is
 * the primary), each command taking `commandMs`, each snapshot completing after `snapshotMs`,
 * and the shell document present.
 */
export function scriptedFleet(
  aws: MockedAws,
  options: { ids: readonly string[]; commandMs: number; snapshotMs: number }
): { clock: VirtualClock; world: SimulatedEc2; fleet: SimulatedFleet } {
  aws.ec2Mock.reset()
  aws.asgMock.reset()
  aws.ssmMock.reset()
  const clock = new VirtualClock()
  const world = new SimulatedEc2(clock, { snapshotMs: options.snapshotMs })
  options.ids.forEach((id, i) => world.launch(id, { at: clock.now() - 86_400_000 + i * 1000 }))
  world.mock(aws.ec2Mock, aws.asgMock)
  const fleet = new SimulatedFleet(
    clock,
    Object.fromEntries(options.ids.map((id) => [id, { durationMs: options.commandMs }]))
  ).mock(aws.ssmMock)
  aws.ssmMock
    .on(DescribeDocumentCommand)
    .resolves({ Document: { Name: 'AWS-RunShellScript', Status: 'Active' } })
  return { clock, world, fleet }
}
