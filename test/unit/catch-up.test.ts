import { beforeEach, describe, expect, it } from '@jest/globals'
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling'
import {
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type Instance
} from '@aws-sdk/client-ec2'
import { catchUp, type CatchUpOptions } from '../../src/deploy/catch-up.js'
import { oldCodeJudge } from '../../src/deploy/old-code.js'
import type { Host } from '../../src/hosts/host.js'
import type { RolloutResult } from '../../src/rollout/types.js'
import { makeRuntime } from '../../src/runtime.js'
import { mockAws } from '../../support/scripted-deploy.js'
import { freshRun } from '../helpers/fresh-run.js'
import { RecordingLog } from '../helpers/log.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'

const { ec2Mock, asgMock, ssmMock, clients } = mockAws()

const instance = (id: string, version: string, state = 'running'): Instance => ({
  InstanceId: id,
  State: { Name: state as 'running' },
  LaunchTime: new Date('2026-01-01T00:00:00Z'),
  Tags: [
    { Key: 'aws:ec2launchtemplate:id', Value: 'lt-0123456789abcdef0' },
    { Key: 'aws:ec2launchtemplate:version', Value: version },
    { Key: 'aws:autoscaling:groupName', Value: 'app-asg' }
  ]
})

/** DescribeInstances answers one fleet after another, one per look. */
function looks(...fleets: Instance[][]): void {
  const stub = ec2Mock.on(DescribeInstancesCommand)
  let i = 0
  stub.callsFake(() => ({
    Reservations: [{ Instances: fleets[Math.min(i++, fleets.length - 1)] }]
  }))
}

const NEW = 'snap-0new000000000000a'
const NEW_CODE = { snapshotId: NEW, device: '/dev/sdf' }

/**
 * Launch template versions and the snapshot each maps /dev/sdf to, by template: lt-0123456789abcdef0
 * version 2 (the one published) boots the new snapshot, any other version an old one.
 */
function versions(boots: Record<string, string> = { 'lt-0123456789abcdef0:2': NEW }): void {
  ec2Mock
    .on(DescribeLaunchTemplateVersionsCommand)
    .callsFake((input: { LaunchTemplateId?: string; Versions?: string[] }) => {
      const version = input.Versions![0]!
      const snapshotId = boots[`${input.LaunchTemplateId}:${version}`] ?? 'snap-0old000000000000a'
      return {
        LaunchTemplateVersions: [
          {
            LaunchTemplateId: input.LaunchTemplateId,
            VersionNumber: Number(version),
            LaunchTemplateData: {
              BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { SnapshotId: snapshotId } }]
            }
          }
        ]
      }
    })
}

/** Catch-up of the Role=app hosts to the new snapshot, none handled yet, a minute to come online. */
const catchUpOptions = (
  extra: Pick<CatchUpOptions, 'maxRounds' | 'rollout'> & Partial<CatchUpOptions>
): CatchUpOptions => ({
  query: { tags: new Map([['Role', ['app']]]), states: ['running'] },
  known: new Set(),
  code: NEW_CODE,
  readyTimeoutMs: 60_000,
  ...extra
})

const ok = (ids: string[]): RolloutResult => ({
  ok: true,
  waves: [],
  results: ids.map((id) => ({ instanceId: id, status: 'Success' })),
  commands: [],
  offline: [],
  offlineSkipped: false,
  dryRun: false
})

describe('catch-up', () => {
  let clock: VirtualClock
  beforeEach(() => {
    ;({ clock } = freshRun(ec2Mock, asgMock, ssmMock))
    versions()
  })

  it('deploys to instances launched from the old version, looks again, and stops when none is new', async () => {
    const known = ['i-0000000000000000a', 'i-0000000000000000b']
    new SimulatedFleet(clock, [
      'i-00000000000000001',
      'i-00000000000000002',
      'i-00000000000000003'
    ]).mock(ssmMock)
    const base = known.map((id) => instance(id, '1'))
    looks(
      [...base, instance('i-00000000000000001', '1'), instance('i-00000000000000002', '2')],
      [
        ...base,
        instance('i-00000000000000001', '1'),
        instance('i-00000000000000002', '2'),
        instance('i-00000000000000003', '1')
      ],
      [
        ...base,
        instance('i-00000000000000001', '1'),
        instance('i-00000000000000002', '2'),
        instance('i-00000000000000003', '1')
      ]
    )
    const rolled: string[][] = []
    const result = await catchUp(
      clients,
      catchUpOptions({
        known: new Set(known),
        maxRounds: 5,
        rollout: async (ids) => (rolled.push(ids), ok(ids))
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(rolled).toEqual([['i-00000000000000001'], ['i-00000000000000003']])
    expect(result.caughtUp).toEqual(['i-00000000000000001', 'i-00000000000000003'])
    expect(result.upToDate).toEqual(['i-00000000000000002'])
    expect(result.failed).toEqual([])
    expect(result.rounds).toBe(3)
    // Pending instances count too.
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:Role', Values: ['app'] },
        { Name: 'instance-state-name', Values: ['pending', 'running'] }
      ]
    })
  })

  it('an instance terminated during its catch-up is not left on old code; its replacement is caught up', async () => {
    new SimulatedFleet(clock, ['i-00000000000000001', 'i-00000000000000002']).mock(ssmMock)
    looks(
      [instance('i-00000000000000001', '1')],
      // The group replaced it, from the old version again.
      [instance('i-00000000000000002', '1')],
      [instance('i-00000000000000002', '1')]
    )
    const rolled: string[][] = []
    const result = await catchUp(
      clients,
      catchUpOptions({
        maxRounds: 5,
        rollout: async (ids) => {
          rolled.push(ids)
          const r = ok(ids)
          if (ids[0] === 'i-00000000000000001')
            r.results = [
              { instanceId: ids[0], status: 'Terminated', reason: 'the instance is terminated' }
            ]
          return r
        }
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(rolled).toEqual([['i-00000000000000001'], ['i-00000000000000002']])
    expect(result.caughtUp).toEqual(['i-00000000000000002'])
    expect(result.failed).toEqual([])
  })

  it('waits for a pending instance to come online, and names one that never does', async () => {
    const fleet = new SimulatedFleet(clock, {
      'i-00000000000000001': { ping: 'none' },
      'i-00000000000000002': { ping: 'none' }
    }).mock(ssmMock)
    clock.at(clock.now() + 20_000, () => fleet.setHost('i-00000000000000001', { ping: 'Online' }))
    looks(
      [
        instance('i-00000000000000001', '1', 'pending'),
        instance('i-00000000000000002', '1', 'pending')
      ],
      []
    )
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
      AutoScalingGroups: [
        {
          AutoScalingGroupName: 'app-asg',
          Instances: [
            { InstanceId: 'i-00000000000000001', LifecycleState: 'Pending' },
            { InstanceId: 'i-00000000000000002', LifecycleState: 'Pending:Wait' }
          ]
        } as never
      ]
    })
    const rolled: string[][] = []
    const log = new RecordingLog()
    const result = await catchUp(
      clients,
      catchUpOptions({
        query: { tags: new Map(), states: ['running'], asgNames: ['app-asg'] },
        readyTimeoutMs: 120_000,
        maxRounds: 3,
        rollout: async (ids) => (rolled.push(ids), ok(ids))
      }),
      makeRuntime({ clock, log })
    )
    expect(rolled).toEqual([['i-00000000000000001']])
    expect(result.failed).toEqual([
      { instanceId: 'i-00000000000000002', reason: 'its SSM agent was not online within 2m' }
    ])
    expect(log.messages('error')).toEqual([
      'i-00000000000000002 never came online: it may run old code. Terminate it or deploy again.'
    ])
  })

  it('gives up after max rounds when instances keep appearing, naming them', async () => {
    new SimulatedFleet(clock, SimulatedFleet.ids(4)).mock(ssmMock)
    looks(
      [instance('i-00000000000000001', '1')],
      [instance('i-00000000000000001', '1'), instance('i-00000000000000002', '1')],
      [
        instance('i-00000000000000001', '1'),
        instance('i-00000000000000002', '1'),
        instance('i-00000000000000003', '1')
      ]
    )
    const result = await catchUp(
      clients,
      catchUpOptions({
        maxRounds: 2,
        rollout: async (ids) => ok(ids)
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.caughtUp).toEqual(['i-00000000000000001', 'i-00000000000000002'])
    expect(result.failed).toEqual([
      { instanceId: 'i-00000000000000003', reason: 'still appearing after 2 catch-up round(s)' }
    ])
  })

  it('stops promptly when cancelled while waiting for a late instance, naming what it left', async () => {
    new SimulatedFleet(clock, { 'i-00000000000000001': { ping: 'none' } }).mock(ssmMock)
    looks([instance('i-00000000000000001', '1', 'pending')])
    const abort = new AbortController()
    const started = clock.now()
    clock.at(started + 15_000, () => abort.abort())
    const rolled: string[][] = []
    const log = new RecordingLog()
    const result = await catchUp(
      clients,
      catchUpOptions({
        readyTimeoutMs: 600_000,
        maxRounds: 3,
        rollout: async (ids) => (rolled.push(ids), ok(ids))
      }),
      makeRuntime({ clock, log, signal: abort.signal })
    )
    // Within one poll interval of the cancellation, not at the 10-minute ready timeout.
    expect(clock.now() - started).toBeLessThan(15_000 + 6_000)
    expect(rolled).toEqual([])
    expect(result.cancelled).toBe(true)
    expect(result.rounds).toBe(1)
    expect(result.failed).toEqual([
      {
        instanceId: 'i-00000000000000001',
        reason: 'the deploy was cancelled before this instance was deployed to'
      }
    ])
    expect(log.messages('warning')).toEqual(['Catch-up stopped: the deploy was cancelled.'])
  })

  it('judges an instance by the snapshot its version boots, not by the version number', async () => {
    const host = (id?: string, version?: string): Host => ({
      instanceId: 'i-1',
      state: 'running',
      launchTime: '',
      tags: {},
      ...(id ? { launchTemplateId: id } : {}),
      ...(version ? { launchTemplateVersion: version } : {})
    })
    // lt-1 v5 is ours; v6 is someone else's, made the default right after, on the old code;
    // lt-2 v3 is ours on a second template.
    versions({ 'lt-1:5': NEW, 'lt-2:3': NEW })
    const hasOldCode = oldCodeJudge(clients.ec2, NEW_CODE)
    expect(await hasOldCode(host('lt-1', '4'))).toBe(true)
    expect(await hasOldCode(host('lt-1', '5'))).toBe(false)
    expect(await hasOldCode(host('lt-1', '6'))).toBe(true)
    expect(await hasOldCode(host('lt-2', '3'))).toBe(false)
    expect(await hasOldCode(host('lt-2', '9'))).toBe(true)
    expect(await hasOldCode(host())).toBe(true)
    // Each version read once, however many instances it launched.
    expect(await hasOldCode(host('lt-1', '5'))).toBe(false)
    expect(ec2Mock.commandCalls(DescribeLaunchTemplateVersionsCommand)).toHaveLength(5)
    // Nothing published: every instance has old code, and no version is read.
    expect(await oldCodeJudge(clients.ec2, undefined)(host('lt-1', '5'))).toBe(true)
    expect(ec2Mock.commandCalls(DescribeLaunchTemplateVersionsCommand)).toHaveLength(5)
  })
})
