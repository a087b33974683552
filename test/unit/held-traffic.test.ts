/** The out-of-service journal kind: taken before deregistering, replayed by registering again. */
import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  ElasticLoadBalancingV2Client,
  RegisterTargetsCommand
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { mockClient } from 'aws-sdk-client-mock'
import { Journal, mapStateProvider } from '../../src/held/journal.js'
import { settleHeld } from '../../src/held/settle.js'
import { trafficSettler } from '../../src/held/settlers.js'
import { journalTraffic } from '../../src/held/traffic.js'

const elbMock = mockClient(ElasticLoadBalancingV2Client)
const elbv2 = new ElasticLoadBalancingV2Client({ region: 'eu-west-1' })
const WEB =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/0123456789abcdef'
const ADMIN =
  'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-admin/fedcba9876543210'

describe('hosts out of service in the journal', () => {
  beforeEach(() => {
    elbMock.reset()
  })

  it('replays what a dead main step left out: registered again on the same port', async () => {
    const state = new Map<string, string>()
    const journal = Journal.start(mapStateProvider(state))
    const { onLeave, onReturn } = journalTraffic(journal)
    const a = {
      targetGroupArn: WEB,
      targetGroupName: 'shop-web',
      instanceId: 'i-0aaaaaaaaaaaaaaaa',
      port: 8080
    }
    const b = {
      targetGroupArn: ADMIN,
      targetGroupName: 'shop-admin',
      instanceId: 'i-0bbbbbbbbbbbbbbbb'
    }
    onLeave([a, b])
    onReturn([b])

    // The post step reads the journal the main step left.
    elbMock.on(RegisterTargetsCommand).resolves({})
    const released = await settleHeld(Journal.read(mapStateProvider(state)), {
      'out-of-service': trafficSettler(elbv2)
    })

    expect(released.map((r) => [r.ok, r.outcome])).toEqual([
      [true, 'Registered i-0aaaaaaaaaaaaaaaa (port 8080) again in target group shop-web.']
    ])
    expect(elbMock.commandCalls(RegisterTargetsCommand).map((c) => c.args[0].input)).toEqual([
      { TargetGroupArn: WEB, Targets: [{ Id: 'i-0aaaaaaaaaaaaaaaa', Port: 8080 }] }
    ])
  })

  it('reports a registration that failed and keeps it held', async () => {
    const journal = Journal.start(mapStateProvider())
    journalTraffic(journal).onLeave([
      { targetGroupArn: WEB, targetGroupName: 'shop-web', instanceId: 'i-0aaaaaaaaaaaaaaaa' }
    ])
    elbMock
      .on(RegisterTargetsCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDenied' }))
    const released = await settleHeld(journal, { 'out-of-service': trafficSettler(elbv2) })
    expect(released[0]?.ok).toBe(false)
    expect(released[0]?.outcome).toMatch(
      new RegExp(`^Could not register i-0aaaaaaaaaaaaaaaa again in target group ${WEB}: .*denied`)
    )
    expect(journal.held()).toHaveLength(1)
  })
})
