import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DeregisterTargetsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  type DescribeTargetHealthCommandOutput,
  RegisterTargetsCommand,
  type TargetHealthStateEnum
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { mockClient } from 'aws-sdk-client-mock'
import { readTrafficSettings } from '../../src/actions/shared/traffic.js'
import type { Host } from '../../src/hosts/host.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { parseCountOrPercent } from '../../src/actions/shared/parse.js'
import { makeRuntime } from '../../src/runtime.js'
import { capacity } from '../../src/traffic/capacity.js'
import { describePlan } from '../../src/report/traffic.js'
import { trafficRollout } from '../../src/traffic/rollout.js'
import { Traffic } from '../../src/traffic/service.js'
import { attachedTargetGroups } from '../../src/traffic/target-groups.js'
import type { TargetGroup } from '../../src/traffic/types.js'
import { VirtualClock } from '../../support/ssm-fleet.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { failureOf } from '../helpers/failure.js'
import { FIELDS as ROLLOUT_FIELDS } from '../../src/actions/rollout/fields.js'

const cp = (raw: string) => parseCountOrPercent('x', raw)

describe('capacity: min-healthy and max-concurrency', () => {
  it.each([
    // in service, min-healthy (undefined: two thirds), max-concurrency -> min healthy, max out
    [3, undefined, '100%', 2, 1],
    [6, undefined, '100%', 4, 2],
    [10, undefined, '100%', 7, 3],
    [10, undefined, '2', 7, 2],
    [10, '50%', '100%', 5, 5],
    [10, '8', '25%', 8, 2],
    [9, '66.67%', '100%', 7, 2],
    [1, '0', '100%', 0, 1],
    [4, '0', '1', 0, 1],
    [3, '66.6666666666666667%', '100%', 2, 1]
  ])(
    '%i hosts, min-healthy %s, max-concurrency %s: %i stay in, %i may be out',
    (n, min, mc, floor, out) => {
      expect(capacity(n, min === undefined ? undefined : cp(min), cp(mc))).toEqual({
        inService: n,
        minHealthy: floor,
        maxOutOfService: out
      })
    }
  )

  it('has nothing to plan with no host in service', () => {
    expect(capacity(0, undefined, cp('100%'))).toEqual({
      inService: 0,
      minHealthy: 0,
      maxOutOfService: 0
    })
  })

  it('refuses a single host by default, saying to set min-healthy to 0', () => {
    expect(() => capacity(1, undefined, cp('100%'))).toThrow(
      'Setting "minHealthy": is not set, and its default (two thirds of the hosts, rounded up) keeps 1 of the 1 host(s) in service, so none can leave the load balancer to deploy. One host cannot stay in service while it deploys: set minHealthy to 0 to accept that it is out of service during the deploy.'
    )
  })

  it('refuses a min-healthy that keeps every host in, quoting it', () => {
    expect(() => capacity(5, cp('5'), cp('1'))).toThrow(
      'Setting "minHealthy": "5" keeps 5 of the 5 host(s) in service, so none can leave the load balancer to deploy. Set minHealthy to 4 or less (e.g. "4") to deploy while 4 stay in service, or to 0 to accept that every host may be out at once.'
    )
    expect(() => capacity(3, cp('90%'), cp('1'))).toThrow('"90%" keeps 3 of the 3 host(s)')
    expect(() => capacity(2, cp('7'), cp('1'))).toThrow('"7" keeps 2 of the 2 host(s)')
  })
})

describe('the traffic inputs', () => {
  const read = (values: Record<string, string>) =>
    readTrafficSettings(new Inputs((name) => values[name] ?? ''))
  const ARN =
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/0123456789abcdef'

  it("default to the target groups of the hosts' Auto Scaling groups, the waits derived", () => {
    expect(read({})).toEqual({ targetGroups: { auto: true, given: [] } })
    expect(read({ 'target-groups': 'auto' })).toEqual({ targetGroups: { auto: true, given: [] } })
  })

  it('replace them with names or ARNs, add to them with auto, or turn off with none', () => {
    expect(read({ 'target-groups': `shop-web\n${ARN}` }).targetGroups).toEqual({
      auto: false,
      given: ['shop-web', ARN]
    })
    expect(read({ 'target-groups': 'auto, shop-admin' }).targetGroups).toEqual({
      auto: true,
      given: ['shop-admin']
    })
    expect(read({ 'target-groups': '["none"]' }).targetGroups).toEqual({ auto: false, given: [] })
  })

  it('parse the waits and min-healthy', () => {
    expect(read({ 'drain-timeout': '90s', 'health-timeout': '5m', 'min-healthy': '75%' })).toEqual({
      targetGroups: { auto: true, given: [] },
      drainTimeoutMs: 90_000,
      healthTimeoutMs: 300_000,
      minHealthy: { kind: 'percent', value: 75 }
    })
    expect(read({ 'drain-timeout': '0', 'min-healthy': '2' })).toMatchObject({
      drainTimeoutMs: 0,
      minHealthy: { kind: 'count', value: 2 }
    })
  })

  it.each([
    [
      { 'target-groups': 'none, shop-web' },
      'Input "target-groups": "none, shop-web" mixes "none" with target groups. Expected "none" alone, or target groups (with "auto" to add the Auto Scaling groups\' own).'
    ],
    [
      { 'target-groups': 'shop_web' },
      'Input "target-groups": "shop_web" is neither a target group ARN nor a target group name. Expected ARNs like "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/shop-web/0123456789abcdef" or names like "shop-web", "auto" or "none".'
    ],
    [
      {
        'target-groups':
          'arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/0123'
      },
      'Input "target-groups": "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/shop/0123" is neither a target group ARN'
    ],
    [
      { 'drain-timeout': 'soon' },
      'Input "drain-timeout": "soon" is not a duration. Expected a number with a unit, e.g. "90s", "10m" or "1h30m".'
    ],
    [
      { 'health-timeout': '0' },
      'Input "health-timeout": "0" is out of range. Expected between 1s and 2h.'
    ],
    [
      { 'min-healthy': '120%' },
      'Input "min-healthy": "120%" is out of range. Expected a percentage from 0 up to 100%.'
    ],
    [
      { 'min-healthy': 'most' },
      'Input "min-healthy": "most" is neither a number of hosts nor a percentage. Expected e.g. "10" or "25%".'
    ]
  ])('refuse %j before anything changes', (values, message) => {
    expect(failureOf(() => read(values), ROLLOUT_FIELDS)).toContain(message)
  })
})

describe('target groups attached to the Auto Scaling groups', () => {
  const A = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/a/1'
  const B = 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/b/2'

  it('reads TargetGroupARNs and elbv2 traffic sources, warning about other kinds', () => {
    const log = new RecordingLog()
    const arns = attachedTargetGroups(
      [
        {
          AutoScalingGroupName: 'shop-production',
          TargetGroupARNs: [A],
          TrafficSources: [
            { Identifier: A, Type: 'elbv2' },
            { Identifier: B, Type: 'elbv2' },
            {
              Identifier: 'arn:aws:vpc-lattice:eu-west-1:123456789012:targetgroup/tg-1',
              Type: 'vpc-lattice'
            }
          ]
        } as never
      ],
      log
    )
    expect(arns.sort()).toEqual([A, B])
    expect(log.messages('warning')).toEqual([
      'shop-production: traffic source arn:aws:vpc-lattice:eu-west-1:123456789012:targetgroup/tg-1 (vpc-lattice) is not drained by this action.'
    ])
  })

  it('refuses a Classic Load Balancer attached as a traffic source', () => {
    expect(() =>
      attachedTargetGroups(
        [
          {
            AutoScalingGroupName: 'shop-production',
            TrafficSources: [{ Identifier: 'shop-classic', Type: 'elb' }]
          } as never
        ],
        new RecordingLog()
      )
    ).toThrow(
      'Auto Scaling group shop-production has Classic Load Balancer(s) attached (shop-classic);'
    )
  })
})

describe('Traffic over a mocked ELBv2', () => {
  const elbMock = mockClient(ElasticLoadBalancingV2Client)
  const elbv2 = new ElasticLoadBalancingV2Client({ region: 'us-east-1' })
  const WEB: TargetGroup = {
    arn: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1',
    name: 'web',
    deregistrationDelayMs: 30_000,
    healthCheckMs: 20_000
  }
  const API: TargetGroup = { ...WEB, arn: WEB.arn.replace('web/1', 'api/2'), name: 'api' }
  const HOST: Host = {
    instanceId: 'i-0123456789abcdef0',
    state: 'running',
    launchTime: '',
    tags: {}
  }
  const registered = (state: TargetHealthStateEnum): DescribeTargetHealthCommandOutput => ({
    $metadata: {},
    TargetHealthDescriptions: [
      { Target: { Id: HOST.instanceId, Port: 80 }, TargetHealth: { State: state } }
    ]
  })
  let clock: VirtualClock
  let log: RecordingLog
  beforeEach(() => {
    ;({ clock, log } = freshRun(elbMock))
  })
  const traffic = (extra: Partial<ConstructorParameters<typeof Traffic>[1]> = {}) =>
    new Traffic(
      elbv2,
      { targetGroups: [WEB], drainTimeoutMs: 60_000, healthTimeoutMs: 60_000, ...extra },
      makeRuntime({ clock, log })
    )

  it('absorbs throttling while it waits for the drain', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' })
    elbMock
      .on(DescribeTargetHealthCommand)
      .resolvesOnce(registered('healthy'))
      .rejectsOnce(throttled)
      .resolvesOnce(registered('draining'))
      .resolves(registered('unused'))
    elbMock.on(DeregisterTargetsCommand).resolves({})
    const left = await traffic().leaveService([HOST])
    expect(left).toMatchObject({ instanceIds: [HOST.instanceId], drainTimedOut: false })
    expect(elbMock).toHaveReceivedCommandTimes(DescribeTargetHealthCommand, 4)
    expect(elbMock).toHaveReceivedCommandWith(DeregisterTargetsCommand, {
      TargetGroupArn: WEB.arn,
      Targets: [{ Id: HOST.instanceId, Port: 80 }]
    })
  })

  it('goes on with a warning when the drain outlasts drain-timeout', async () => {
    elbMock
      .on(DescribeTargetHealthCommand)
      .resolvesOnce(registered('healthy'))
      .resolves(registered('draining'))
    elbMock.on(DeregisterTargetsCommand).resolves({})
    const left = await traffic({ drainTimeoutMs: 10_000 }).leaveService([HOST])
    expect(left.drainTimedOut).toBe(true)
    expect(left.drainMs).toBe(10_000)
    expect(log.messages('warning')).toEqual([
      `Timed out after 10s waiting for host ${HOST.instanceId} to drain (last seen: draining: ${HOST.instanceId}); going on after drain-timeout (10s): requests still open on these hosts may be cut.`
    ])
  })

  it('deregisters nothing when the journal cannot record it', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolves(registered('healthy'))
    const t = traffic({
      onLeave: () => {
        throw new Error('journal full')
      }
    })
    await expect(t.leaveService([HOST])).rejects.toThrow('journal full')
    expect(elbMock).not.toHaveReceivedCommand(DeregisterTargetsCommand)
    expect(t.outOfService()).toEqual([])
  })

  it('restoreAll keeps what one target group refused out, for the next try', async () => {
    elbMock
      .on(DescribeTargetHealthCommand)
      .resolvesOnce(registered('healthy'))
      .resolvesOnce(registered('healthy'))
      .resolves({ TargetHealthDescriptions: [] })
    elbMock.on(DeregisterTargetsCommand).resolves({})
    const t = traffic({ targetGroups: [API, WEB] })
    await t.leaveService([HOST])
    const denied = Object.assign(new Error('not allowed'), { name: 'AccessDenied' })
    elbMock.on(RegisterTargetsCommand, { TargetGroupArn: API.arn }).rejects(denied)
    elbMock.on(RegisterTargetsCommand, { TargetGroupArn: WEB.arn }).resolves({})

    const first = await t.restoreAll()
    expect(first.restored.map((r) => r.targetGroupName)).toEqual(['web'])
    expect(first.failed).toEqual([
      {
        registrations: [
          { targetGroupArn: API.arn, targetGroupName: 'api', instanceId: HOST.instanceId, port: 80 }
        ],
        error: expect.stringMatching(/^RegisterTargets failed: AccessDenied: not allowed/)
      }
    ])
    expect(t.outOfService().map((r) => r.targetGroupName)).toEqual(['api'])
    elbMock.on(RegisterTargetsCommand, { TargetGroupArn: API.arn }).resolves({})
    expect((await t.restoreAll()).restored.map((r) => r.targetGroupName)).toEqual(['api'])
    expect(t.outOfService()).toEqual([])
  })

  it('after: a terminated host is forgotten, neither registered again nor waited on, and the journal is told', async () => {
    elbMock.on(DescribeTargetHealthCommand).resolvesOnce(registered('healthy')).resolves({})
    elbMock.on(DeregisterTargetsCommand).resolves({})
    const gone: string[] = []
    const plan = { targetGroups: [WEB], drainTimeoutMs: 60_000, healthTimeoutMs: 600_000 }
    const rollout = trafficRollout(elbv2, plan, [HOST], makeRuntime({ clock, log }), {
      onGone: (regs) => {
        gone.push(...regs.map((r) => r.instanceId))
      }
    })!
    const runtime = makeRuntime({ clock, log })
    await rollout.lifecycle.before!([HOST.instanceId], runtime)
    const start = clock.now()
    const failed = await rollout.lifecycle.after!(
      [{ instanceId: HOST.instanceId, status: 'Terminated', reason: 'the instance is terminated' }],
      runtime
    )
    expect(failed).toEqual([])
    expect(clock.now()).toBe(start)
    expect(elbMock).not.toHaveReceivedCommand(RegisterTargetsCommand)
    expect(rollout.traffic.outOfService()).toEqual([])
    expect(gone).toEqual([HOST.instanceId])
    // Nothing left for the end of the run (or the post step) to register.
    expect((await rollout.traffic.restoreAll()).restored).toEqual([])
  })

  it('after: a health wait ended by a cancellation is in the timings, not a 0 s healthy return', async () => {
    elbMock
      .on(DescribeTargetHealthCommand)
      .resolvesOnce(registered('healthy'))
      .resolvesOnce({})
      .resolves(registered('initial'))
    elbMock.on(DeregisterTargetsCommand).resolves({})
    elbMock.on(RegisterTargetsCommand).resolves({})
    const abort = new AbortController()
    const runtime = makeRuntime({ clock, log, signal: abort.signal })
    const plan = { targetGroups: [WEB], drainTimeoutMs: 60_000, healthTimeoutMs: 600_000 }
    const rollout = trafficRollout(elbv2, plan, [HOST], runtime)!
    await rollout.lifecycle.before!([HOST.instanceId], runtime)
    clock.at(clock.now() + 40_000, () => abort.abort())
    await expect(
      rollout.lifecycle.after!([{ instanceId: HOST.instanceId, status: 'Cancelled' }], runtime)
    ).rejects.toThrow(/cancelled/)
    const timing = rollout.hosts.get(HOST.instanceId)!
    expect(timing.failure).toMatch(/^Stopped waiting for host i-0123456789abcdef0 to be healthy/)
    expect(timing.outOfServiceMs).toBeGreaterThanOrEqual(40_000)
  })

  it('describes the plan for the log and dry-run', () => {
    expect(
      describePlan({
        targetGroups: [WEB],
        drainTimeoutMs: 60_000,
        healthTimeoutMs: 70_000,
        capacity: { inService: 6, minHealthy: 4, maxOutOfService: 2 }
      })
    ).toEqual([
      'Target group web: deregistration delay 30s, health checks 20s (interval x healthy threshold)',
      'Waits: drain up to 1m, healthy within 1m10s',
      'Capacity: 4 of 6 host(s) stay in service, at most 2 out at once'
    ])
    expect(describePlan({ targetGroups: [], drainTimeoutMs: 0, healthTimeoutMs: 0 })).toEqual([
      'No target group: hosts are not taken out of service around their deploy.'
    ])
  })
})
