/**
 * The traffic steps against the emulator's ELBv2 (support/emulator/elbv2.py), which drains for
 * the deregistration delay, holds new targets `initial` for interval x healthy threshold and
 * fails hosts tagged emulator:health, all scaled by the target groups' emulator:time-scale tag.
 */
import { describe, expect, it } from '@jest/globals'
import { EnterStandbyCommand } from '@aws-sdk/client-auto-scaling'
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { Host } from '../../src/hosts/host.js'
import { resolveHosts } from '../../src/hosts/resolve.js'
import { PollAbortedError } from '../../src/poll.js'
import { makeRuntime } from '../../src/runtime.js'
import { planTraffic } from '../../src/traffic/plan.js'
import { Traffic } from '../../src/traffic/service.js'
import { restoreRegistrations } from '../../src/traffic/targets.js'
import type { Registration, TargetGroup } from '../../src/traffic/types.js'
import {
  behindTargetGroups,
  codeVolumeWorld,
  createTargetGroup,
  setDesired,
  sleep,
  tag,
  targetStates,
  type TargetGroupWorld,
  type TestClients
} from '../../support/emulator/world.js'
import { RecordingLog } from '../helpers/log.js'
import { FAST } from '../helpers/deploy-options.js'
import { useEmulator } from '../helpers/emulator.js'

const emulator = useEmulator()

async function hostsOf(c: TestClients, asgName: string): Promise<Host[]> {
  const { hosts } = await resolveHosts(c, {
    tags: new Map(),
    states: ['running'],
    asgNames: [asgName]
  })
  return hosts
}

/** The world's target groups as the plan reads them (auto: from the Auto Scaling group). */
async function groupsOf(c: TestClients, hosts: Host[]): Promise<TargetGroup[]> {
  const plan = await planTraffic(
    c,
    hosts,
    { targetGroups: { auto: true, given: [] }, minHealthy: { kind: 'count', value: 0 } },
    { maxConcurrency: { kind: 'count', value: 1 }, log: new RecordingLog() }
  )
  return plan.targetGroups
}

/** The plan for every host at once, target groups read from their groups, min-healthy unset. */
const planAllAtOnce = (c: TestClients, hosts: Host[]) =>
  planTraffic(
    c,
    hosts,
    { targetGroups: { auto: true, given: [] } },
    { maxConcurrency: { kind: 'percent', value: 100 }, log: new RecordingLog() }
  )

/**
 * Records the states one host goes through in a target group, deduplicated, until stopped. The
 * first state is read before it returns, so a change made right after is never the first seen.
 */
async function watch(c: TestClients, arn: string, instanceId: string) {
  const seen: string[] = []
  let running = true
  const observe = async () => {
    const state = (await targetStates(c, arn))[instanceId]?.state ?? 'absent'
    if (seen.at(-1) !== state) seen.push(state)
  }
  await observe()
  const done = (async () => {
    while (running) {
      await sleep(40)
      await observe()
    }
  })()
  return {
    stop: async () => {
      running = false
      await done
      return seen
    }
  }
}

function traffic(
  c: TestClients,
  groups: TargetGroup[],
  extra: Partial<ConstructorParameters<typeof Traffic>[1]> = {},
  signal?: AbortSignal
): Traffic {
  return new Traffic(
    c.elbv2,
    {
      targetGroups: groups,
      drainTimeoutMs: 20_000,
      healthTimeoutMs: 20_000,
      backoff: FAST,
      ...extra
    },
    makeRuntime({ ...(signal ? { signal } : {}), log: new RecordingLog() })
  )
}

/** `size` hosts in web, the last failing its checks, and min-healthy 2 checked at each leave. */
async function oneSick(c: TestClients, healthTimeoutMs: number, size = 3) {
  const world = await behindTargetGroups(c, { size, targetGroups: [{ name: 'web' }] })
  const hosts = await hostsOf(c, world.asgName)
  const [first, second] = hosts as [Host, Host]
  const sick = hosts.at(-1)!
  const arn = world.targetGroups[0]!.arn
  await tag(c.ec2, [sick.instanceId], { 'emulator:health': 'Target.Timeout' })
  const floors = [{ arn, name: 'web', targets: size, healthy: size, minHealthy: 2 }]
  const t = traffic(c, await groupsOf(c, hosts), { floors, healthTimeoutMs })
  return { first, second, sick, arn, t }
}

describe('leaving and returning to service', () => {
  it('drains a host, keeps it out until returned, then waits through initial to healthy', async () => {
    const c = emulator.clients
    // 300 s delay x 0.01 = 3 s of draining; 50 s x 2 checks x 0.01 = 1 s initial.
    const world = await behindTargetGroups(c, {
      size: 3,
      targetGroups: [{ name: 'web', intervalSeconds: 50, healthyThreshold: 2 }]
    })
    const hosts = await hostsOf(c, world.asgName)
    const [first, ...others] = hosts as [Host, ...Host[]]
    const groups = await groupsOf(c, hosts)
    const journal: Registration[][] = []
    const t = traffic(c, groups, { onLeave: (r) => void journal.push([...r]) })
    const arn = world.targetGroups[0]!.arn

    const leaving = await watch(c, arn, first.instanceId)
    const left = await t.leaveService([first])
    // Out of service: the group changing (a scale-out registers the new member) must not put it back.
    await setDesired(c, world.asgName, 4)
    await sleep(500)
    expect(await leaving.stop()).toEqual(['healthy', 'draining', 'absent'])
    expect(left.instanceIds).toEqual([first.instanceId])
    expect(left.drainMs).toBeGreaterThanOrEqual(2_500)
    expect(left.drainTimedOut).toBe(false)
    expect(journal).toEqual([
      [{ targetGroupArn: arn, targetGroupName: 'web', instanceId: first.instanceId, port: 80 }]
    ])
    const during = await targetStates(c, arn)
    expect(during[first.instanceId]).toBeUndefined()
    expect(Object.keys(during)).toHaveLength(3)
    for (const h of others) expect(during[h.instanceId]).toEqual({ state: 'healthy', port: 80 })

    const returning = await watch(c, arn, first.instanceId)
    const back = await t.returnToService([first])
    expect(await returning.stop()).toEqual(['absent', 'initial', 'healthy'])
    expect(back).toMatchObject({ instanceIds: [first.instanceId], healthy: [first.instanceId] })
    expect(back.failed).toEqual([])
    expect(back.healthWaitMs).toBeGreaterThanOrEqual(800)
    expect(back.outOfServiceMs).toBeGreaterThanOrEqual(left.drainMs + 500 + back.healthWaitMs)
    expect(t.outOfService()).toEqual([])
    expect((await targetStates(c, arn))[first.instanceId]).toEqual({ state: 'healthy', port: 80 })
  })

  it('fails a host that is not healthy in time, naming the target group and ELB reason', async () => {
    const c = emulator.clients
    const world = await behindTargetGroups(c, {
      size: 2,
      targetGroups: [{ name: 'web', deregistrationDelaySeconds: 50 }]
    })
    const hosts = await hostsOf(c, world.asgName)
    const broken = hosts[1]!
    await tag(c.ec2, [broken.instanceId], { 'emulator:health': 'Target.ResponseCodeMismatch' })
    const t = traffic(c, await groupsOf(c, hosts), { healthTimeoutMs: 1_500 })

    await t.leaveService(hosts)
    const back = await t.returnToService(hosts)

    expect(back.healthy).toEqual([hosts[0]!.instanceId])
    expect(back.failed).toEqual([
      {
        instanceId: broken.instanceId,
        targetGroupName: 'web',
        state: 'unhealthy',
        reasonCode: 'Target.ResponseCodeMismatch',
        description: 'Health checks failed with these codes: [502]',
        message: `${broken.instanceId} not healthy in target group web after 2s: unhealthy (Target.ResponseCodeMismatch: Health checks failed with these codes: [502])`
      }
    ])
    // It stays registered: the load balancer keeps routing around it, and nothing is left out.
    expect(t.outOfService()).toEqual([])
  })

  it('a leave that would go below min-healthy waits for targets to recover, then leaves', async () => {
    const c = emulator.clients
    const { first, sick, arn, t } = await oneSick(c, 20_000)

    const leaving = await watch(c, arn, first.instanceId)
    const started = Date.now()
    const repaired = sleep(800).then(() =>
      tag(c.ec2, [sick.instanceId], { 'emulator:health': 'healthy' })
    )
    const left = await t.leaveService([first])
    await repaired

    // It stayed in service until the sick target was healthy again, then left.
    expect(Date.now() - started).toBeGreaterThanOrEqual(700)
    expect(left.refused).toEqual([])
    expect(left.instanceIds).toEqual([first.instanceId])
    expect(await leaving.stop()).toEqual(['healthy', 'draining', 'absent'])
    await t.restoreAll()
  })

  it('a leave below min-healthy is refused after health-timeout, naming the floor, and the host stays', async () => {
    const c = emulator.clients
    const { first, arn, t } = await oneSick(c, 1_000)

    const left = await t.leaveService([first])

    expect(left.instanceIds).toEqual([])
    expect(left.refused).toEqual([
      {
        instanceId: first.instanceId,
        reason: expect.stringMatching(
          /^not taken out of target group web: 2 of its 3 target\(s\) are healthy now, and min-healthy keeps 2; the targets that served nothing before the deploy did not recover, or others fell ill \(waited [12]s: health-timeout, with no other host of this rollout out of service\)$/
        )
      }
    ])
    expect((await targetStates(c, arn))[first.instanceId]).toEqual({ state: 'healthy', port: 80 })
    expect(t.outOfService()).toEqual([])
  })

  it('a leave refused while another host of the rollout is out waits past health-timeout for its return', async () => {
    const c = emulator.clients
    // Four hosts, one sick: 3 healthy, so one may leave, not two.
    const { first, second, t } = await oneSick(c, 1_500, 4)
    await t.leaveService([first])

    const started = Date.now()
    const back = sleep(2_500).then(() => t.returnToService([first]))
    const left = await t.leaveService([second])
    const returned = await back

    // Not refused at health-timeout (1.5 s): it left once the first was back and healthy.
    expect(returned.healthy).toEqual([first.instanceId])
    expect(left.refused).toEqual([])
    expect(left.instanceIds).toEqual([second.instanceId])
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_400)
    await t.restoreAll()
  })

  it('skips hosts in Standby (already out of service) and hosts in no target group', async () => {
    const c = emulator.clients
    const world = await behindTargetGroups(c, { size: 3, targetGroups: [{ name: 'web' }] })
    await c.autoscaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: world.asgName,
        InstanceIds: [world.instanceIds[2]!],
        ShouldDecrementDesiredCapacity: true
      })
    )
    const hosts = await hostsOf(c, world.asgName)
    const standby = hosts.find((h) => h.lifecycleState === 'Standby')!
    // As on AWS, Standby took it out of the target group, and a change to the group (here a
    // scale-out) does not put it back.
    await setDesired(c, world.asgName, 3)
    const states = await targetStates(c, world.targetGroups[0]!.arn)
    expect(states[standby.instanceId]?.state).toBe('draining')
    expect(Object.values(states).filter((s) => s.state !== 'draining')).toHaveLength(3)
    const loose: Host = {
      ...hosts[0]!,
      instanceId: 'i-00000000000000000',
      lifecycleState: 'InService'
    }
    const t = traffic(c, await groupsOf(c, hosts))

    const left = await t.leaveService([standby, loose])
    expect(left).toEqual({
      instanceIds: [],
      skipped: [
        { instanceId: standby.instanceId, reason: 'standby' },
        { instanceId: loose.instanceId, reason: 'not-registered' }
      ],
      registrations: [],
      refused: [],
      drainMs: 0,
      drainTimedOut: false
    })
  })
})

describe('putting back what is out, whatever ended the run', () => {
  /** `delay` s of deregistration delay, x 0.01 in the emulator. */
  async function portWorld(
    c: TestClients,
    delay: number
  ): Promise<{ world: TargetGroupWorld; hosts: Host[] }> {
    const world = await behindTargetGroups(c, {
      size: 2,
      targetGroups: [{ name: 'web', deregistrationDelaySeconds: delay }]
    })
    const hosts = await hostsOf(c, world.asgName)
    // A second group, not attached to the Auto Scaling group, where the primary serves on 8081.
    const admin = await createTargetGroup(c, {
      name: 'admin',
      port: 80,
      deregistrationDelaySeconds: delay
    })
    await c.elbv2.send(
      new RegisterTargetsCommand({
        TargetGroupArn: admin.arn,
        Targets: [{ Id: hosts[0]!.instanceId, Port: 8081 }]
      })
    )
    return {
      world: { ...world, targetGroups: [...world.targetGroups, admin] },
      hosts
    }
  }

  it('restoreAll after a cancelled drain re-registers exactly what was out, and is safe to repeat', async () => {
    const c = emulator.clients
    const { world, hosts } = await portWorld(c, 300)
    const plan = await planTraffic(
      c,
      hosts,
      { targetGroups: { auto: true, given: ['admin'] }, minHealthy: { kind: 'count', value: 0 } },
      { maxConcurrency: { kind: 'count', value: 1 }, log: new RecordingLog() }
    )
    expect(plan.targetGroups.map((g) => g.name)).toEqual(['admin', 'web'])
    const abort = new AbortController()
    const t = traffic(c, plan.targetGroups, {}, abort.signal)
    const id = hosts[0]!.instanceId

    setTimeout(() => abort.abort(), 300)
    const started = Date.now()
    await expect(t.leaveService([hosts[0]!])).rejects.toThrow(PollAbortedError)
    expect(Date.now() - started).toBeLessThan(2_500) // a 3 s drain, ended at once
    expect(t.outOfService().map((r) => [r.targetGroupName, r.instanceId, r.port])).toEqual([
      ['admin', id, 8081],
      ['web', id, 80]
    ])

    const restored = await t.restoreAll()
    expect(restored.failed).toEqual([])
    expect(restored.restored.map((r) => [r.targetGroupName, r.port])).toEqual([
      ['admin', 8081],
      ['web', 80]
    ])
    expect((await targetStates(c, world.targetGroups[1]!.arn))[id]).toMatchObject({ port: 8081 })
    expect((await targetStates(c, world.targetGroups[0]!.arn))[id]).toMatchObject({ port: 80 })
    expect(['initial', 'healthy']).toContain(
      (await targetStates(c, world.targetGroups[1]!.arn))[id]!.state
    )
    expect(await t.restoreAll()).toEqual({ restored: [], failed: [] })
  })

  it("the journal of a dead run is enough to put its hosts back (the post step's replay)", async () => {
    const c = emulator.clients
    const { world, hosts } = await portWorld(c, 100)
    const journal: Registration[] = []
    const plan = await planTraffic(
      c,
      hosts,
      { targetGroups: { auto: true, given: ['admin'] }, minHealthy: { kind: 'count', value: 0 } },
      { maxConcurrency: { kind: 'count', value: 1 }, log: new RecordingLog() }
    )
    const t = traffic(c, plan.targetGroups, { onLeave: (r) => void journal.push(...r) })
    await t.leaveService(hosts) // the main step dies here: the object is gone
    const id = hosts[0]!.instanceId
    expect((await targetStates(c, world.targetGroups[1]!.arn))[id]).toBeUndefined()

    const replay = await restoreRegistrations(c.elbv2, journal)
    expect(replay.failed).toEqual([])
    expect(replay.restored).toHaveLength(3)
    expect((await targetStates(c, world.targetGroups[1]!.arn))[id]).toMatchObject({ port: 8081 })
    for (const h of hosts)
      expect((await targetStates(c, world.targetGroups[0]!.arn))[h.instanceId]).toMatchObject({
        port: 80
      })
    expect(await restoreRegistrations(c.elbv2, journal)).toMatchObject({ failed: [] })
  })

  it('cancellation ends the health wait promptly', async () => {
    const c = emulator.clients
    const world = await behindTargetGroups(c, {
      size: 1,
      targetGroups: [{ name: 'web', deregistrationDelaySeconds: 20 }]
    })
    const hosts = await hostsOf(c, world.asgName)
    await tag(c.ec2, [hosts[0]!.instanceId], { 'emulator:health': 'Target.Timeout' })
    const abort = new AbortController()
    const t = traffic(c, await groupsOf(c, hosts), { healthTimeoutMs: 60_000 }, abort.signal)
    await t.leaveService(hosts)

    setTimeout(() => abort.abort(), 500)
    const started = Date.now()
    await expect(t.returnToService(hosts)).rejects.toThrow(
      /^Stopped waiting for host i-[0-9a-f]+ to be healthy: cancelled$/
    )
    expect(Date.now() - started).toBeLessThan(5_000) // a 60 s health wait, ended at once
    expect(t.outOfService()).toEqual([]) // registered again before the wait
  })
})

describe('finding the target groups', () => {
  it('reads the Auto Scaling group, adds or replaces by name and ARN, and derives the waits', async () => {
    const c = emulator.clients
    const world = await behindTargetGroups(c, {
      size: 3,
      targetGroups: [
        { name: 'web', deregistrationDelaySeconds: 120, intervalSeconds: 15, healthyThreshold: 3 },
        { name: 'api', deregistrationDelaySeconds: 30, intervalSeconds: 10, healthyThreshold: 2 }
      ]
    })
    const admin = await createTargetGroup(c, { name: 'admin', deregistrationDelaySeconds: 5 })
    const hosts = await hostsOf(c, world.asgName)
    const plan = (given: string[], auto: boolean) =>
      planTraffic(
        c,
        hosts,
        { targetGroups: { auto, given } },
        { maxConcurrency: { kind: 'percent', value: 100 }, log: new RecordingLog() }
      )

    const auto = await plan([], true)
    expect(auto.targetGroups).toEqual([
      {
        arn: world.targetGroups[1]!.arn,
        name: 'api',
        deregistrationDelayMs: 30_000,
        healthCheckMs: 20_000,
        attachedTo: [world.asgName]
      },
      {
        arn: world.targetGroups[0]!.arn,
        name: 'web',
        deregistrationDelayMs: 120_000,
        healthCheckMs: 45_000,
        attachedTo: [world.asgName]
      }
    ])
    expect(auto.drainTimeoutMs).toBe(150_000) // the longest delay + 30 s
    expect(auto.healthTimeoutMs).toBe(120_000) // 2 x 45 s + 30 s
    expect(auto.capacity).toMatchObject({ inService: 3, minHealthy: 2, maxOutOfService: 1 })

    expect((await plan(['admin'], true)).targetGroups.map((g) => g.name)).toEqual([
      'admin',
      'api',
      'web'
    ])
    expect((await plan([admin.arn], false)).targetGroups.map((g) => g.name)).toEqual(['admin'])
    expect(await plan([], false)).toEqual({
      targetGroups: [],
      drainTimeoutMs: 30_000,
      healthTimeoutMs: 30_000
    })
    await expect(plan(['nope'], true)).rejects.toThrow(
      'Setting "targetGroups": "nope" is not a target group in this region. Expected target group ARNs or names (ELBv2), "auto" or "none".'
    )
  })

  it('refuses a group with a Classic Load Balancer before anything changes', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 2, loadBalancerNames: ['shop-classic'] })
    const hosts = await hostsOf(c, world.asgName)
    await expect(planAllAtOnce(c, hosts)).rejects.toThrow(
      `Auto Scaling group ${world.asgName} has Classic Load Balancer(s) attached (shop-classic); this action takes hosts out of ELBv2 target groups only. Put the instances behind an Application or Network Load Balancer target group attached to the group, or set target-groups to the target groups to use, or to "none" to deploy without taking hosts out of service. Nothing was changed.`
    )
  })

  it('refuses a fleet that cannot keep a host in service, naming min-healthy', async () => {
    const c = emulator.clients
    const world = await behindTargetGroups(c, { size: 2, targetGroups: [{ name: 'web' }] })
    const hosts = await hostsOf(c, world.asgName)
    await expect(planAllAtOnce(c, hosts)).rejects.toThrow(
      'Setting "minHealthy": is not set, and its default (two thirds of the hosts, rounded up) keeps 2 of the 2 host(s) in service, so none can leave the load balancer to deploy. Set minHealthy to 1 or less (e.g. "1") to deploy while 1 stay in service, or to 0 to accept that every host may be out at once.'
    )
  })
})
