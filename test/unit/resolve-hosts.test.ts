import { beforeEach, describe, expect, it } from '@jest/globals'
import {
  DescribeAutoScalingGroupsCommand,
  type Instance as AsgInstance
} from '@aws-sdk/client-auto-scaling'
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2'
import { AwsApiError, SettingError } from '../../src/errors.js'
import { compareHosts, type Host } from '../../src/hosts/host.js'
import {
  describeQuery,
  ec2Filters,
  resolveHosts,
  toHost,
  type HostQuery
} from '../../src/hosts/resolve.js'
import { chunk } from '../../src/collections.js'
import { parseTags } from '../../src/actions/shared/parse.js'
import { hostOutputs, readHostQuery } from '../../src/actions/shared/hosts.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { mockAws } from '../../support/scripted-deploy.js'
import { failureOf } from '../helpers/failure.js'
import { FIELDS } from '../../src/actions/resolve-hosts/fields.js'

const { ec2Mock, asgMock, clients } = mockAws()

function instance(id: string, launched: string, extra: Partial<Instance> = {}): Instance {
  return {
    InstanceId: id,
    State: { Name: 'running', Code: 16 },
    LaunchTime: new Date(launched),
    PrivateIpAddress: `10.0.0.${id.slice(-1).charCodeAt(0) % 250}`,
    Placement: { AvailabilityZone: 'us-east-1a' },
    Tags: [{ Key: 'Role', Value: 'app' }],
    ...extra
  }
}

const query = (tags: string, states: HostQuery['states'] = ['running']): HostQuery => ({
  tags: parseTags('tags', tags),
  states
})

const member = (id: string, state = 'InService'): AsgInstance => ({
  InstanceId: id,
  LifecycleState: state as AsgInstance['LifecycleState'],
  AvailabilityZone: 'us-east-1a',
  HealthStatus: 'Healthy',
  ProtectedFromScaleIn: false
})

beforeEach(() => {
  ec2Mock.reset()
  asgMock.reset()
})

describe('resolveHosts', () => {
  it('reads every page and returns every host', async () => {
    const pages = [
      {
        Reservations: [
          { Instances: [instance('i-01', '2026-01-01T00:00:00Z')] },
          { Instances: [instance('i-02', '2026-01-02T00:00:00Z')] }
        ],
        NextToken: 'page-2'
      },
      {
        Reservations: [
          {
            Instances: [
              instance('i-03', '2026-01-03T00:00:00Z'),
              instance('i-04', '2026-01-04T00:00:00Z')
            ]
          }
        ],
        NextToken: 'page-3'
      },
      { Reservations: [{ Instances: [instance('i-05', '2026-01-05T00:00:00Z')] }] }
    ]
    // The paginator reuses one input object, so copy each request as it is sent.
    const sent: unknown[] = []
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: object) => {
      sent.push(structuredClone(input))
      return pages[sent.length - 1]
    })

    const result = await resolveHosts(clients, query('Role=app'), { pageSize: 2 })

    expect(result.hosts.map((h) => h.instanceId)).toEqual(['i-01', 'i-02', 'i-03', 'i-04', 'i-05'])
    expect(result.calls).toEqual({ DescribeInstances: 3 })
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 3)
    const filters = [
      { Name: 'tag:Role', Values: ['app'] },
      { Name: 'instance-state-name', Values: ['running'] }
    ]
    expect(sent).toEqual([
      { Filters: filters, MaxResults: 2 },
      { Filters: filters, MaxResults: 2, NextToken: 'page-2' },
      { Filters: filters, MaxResults: 2, NextToken: 'page-3' }
    ])
  })

  it('pushes tags (values OR, keys AND) and states to the API, exactly', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] })
    const result = await resolveHosts(
      clients,
      query('Role=app,web\nEnvironment=prod*', ['running', 'stopped'])
    )
    expect(result.hosts).toEqual([])
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 1)
    const input = ec2Mock.commandCalls(DescribeInstancesCommand)[0]!.args[0].input
    expect(input).toEqual({
      Filters: [
        { Name: 'tag:Role', Values: ['app', 'web'] },
        { Name: 'tag:Environment', Values: ['prod*'] },
        { Name: 'instance-state-name', Values: ['running', 'stopped'] }
      ],
      MaxResults: 1000
    })
    expect(result.description).toBe(
      'tag:Role in (app, web) AND tag:Environment in (prod*) AND instance-state-name in (running, stopped)'
    )
    expect(asgMock).not.toHaveReceivedAnyCommand()
  })

  it('orders by launch time, then instance id, whatever order the API answers in', async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            instance('i-0c', '2026-03-01T10:00:00Z'),
            instance('i-0b', '2026-03-01T09:00:00Z'),
            instance('i-0a', '2026-03-01T10:00:00Z')
          ]
        },
        { Instances: [instance('i-09', '2026-03-02T00:00:00Z')] },
        { Instances: [instance('i-0d', '2026-03-01T09:00:00Z')] }
      ]
    })
    const { hosts } = await resolveHosts(clients, query('Role=app'))
    expect(hosts.map((h) => h.instanceId)).toEqual(['i-0b', 'i-0d', 'i-0a', 'i-0c', 'i-09'])
    expect(hostOutputs(hosts)['primary-instance-id']).toBe('i-0b')
  })

  it('lists an instance once even if two pages both carry it', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [{ Instances: [instance('i-01', '2026-01-01T00:00:00Z')] }],
        NextToken: 't'
      })
      .resolvesOnce({ Reservations: [{ Instances: [instance('i-01', '2026-01-01T00:00:00Z')] }] })
    const { hosts } = await resolveHosts(clients, query('Role=app'))
    expect(hosts.map((h) => h.instanceId)).toEqual(['i-01'])
  })

  describe('with asg-name', () => {
    it('keeps the InService and Standby members, pushed as an instance-id filter beside the tags', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'app-asg',
            MinSize: 0,
            MaxSize: 10,
            DesiredCapacity: 4,
            DefaultCooldown: 300,
            AvailabilityZones: ['us-east-1a'],
            HealthCheckType: 'EC2',
            CreatedTime: new Date(),
            Instances: [
              member('i-01'),
              member('i-02', 'Pending'),
              member('i-03', 'Terminating'),
              member('i-04'),
              member('i-05', 'Standby')
            ]
          }
        ]
      })
      ec2Mock.on(DescribeInstancesCommand).resolves({
        Reservations: [
          {
            Instances: [
              instance('i-04', '2026-01-01T00:00:00Z'),
              instance('i-01', '2026-01-02T00:00:00Z'),
              instance('i-05', '2026-01-03T00:00:00Z')
            ]
          }
        ]
      })
      const q: HostQuery = { ...query('Role=app'), asgNames: ['app-asg'] }
      const result = await resolveHosts(clients, q)

      expect(result.hosts.map((h) => [h.instanceId, h.lifecycleState])).toEqual([
        ['i-04', 'InService'],
        ['i-01', 'InService'],
        ['i-05', 'Standby']
      ])
      expect(asgMock).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, {
        AutoScalingGroupNames: ['app-asg']
      })
      expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, {
        Filters: [
          { Name: 'tag:Role', Values: ['app'] },
          { Name: 'instance-state-name', Values: ['running'] },
          { Name: 'instance-id', Values: ['i-01', 'i-04', 'i-05'] }
        ],
        MaxResults: 1000
      })
      expect(result.calls).toEqual({ DescribeAutoScalingGroups: 1, DescribeInstances: 1 })
      expect(result.description).toBe(
        'tag:Role in (app) AND instance-state-name in (running) AND member of Auto Scaling group app-asg (InService, Standby)'
      )
    })

    it('splits more than 200 members into several instance-id filters', async () => {
      const ids = Array.from({ length: 450 }, (_, i) => `i-${String(i).padStart(4, '0')}`)
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'big',
            MinSize: 0,
            MaxSize: 500,
            DesiredCapacity: 450,
            DefaultCooldown: 300,
            AvailabilityZones: ['us-east-1a'],
            HealthCheckType: 'EC2',
            CreatedTime: new Date(),
            Instances: ids.map((id) => member(id))
          }
        ]
      })
      ec2Mock
        .on(DescribeInstancesCommand)
        .callsFake((input: { Filters: Array<{ Name: string; Values: string[] }> }) => {
          const wanted = input.Filters.find((f) => f.Name === 'instance-id')!.Values
          return {
            Reservations: [{ Instances: wanted.map((id) => instance(id, '2026-01-01T00:00:00Z')) }]
          }
        })
      const result = await resolveHosts(clients, {
        tags: new Map(),
        states: ['running'],
        asgNames: ['big']
      })
      expect(result.hosts.map((h) => h.instanceId)).toEqual(ids)
      expect(result.calls['DescribeInstances']).toBe(3)
      const sizes = ec2Mock
        .commandCalls(DescribeInstancesCommand)
        .map((c) => c.args[0].input.Filters!.find((f) => f.Name === 'instance-id')!.Values!.length)
      expect(sizes).toEqual([200, 200, 50])
    })

    it('names the groups setting when the group does not exist, and never calls DescribeInstances', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] })
      const err = await resolveHosts(clients, { ...query('Role=app'), asgNames: ['nope'] }).catch(
        (e: unknown) => e
      )
      expect(err).toBeInstanceOf(SettingError)
      expect((err as SettingError).field).toBe('groups')
      expect((err as Error).message).toBe(
        'Setting "groups": Auto Scaling group "nope" does not exist in this region. Expected the name of an existing group.'
      )
      expect(ec2Mock).not.toHaveReceivedCommand(DescribeInstancesCommand)
    })

    it('returns nothing, without DescribeInstances, when no member is InService', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
        AutoScalingGroups: [
          {
            AutoScalingGroupName: 'app-asg',
            MinSize: 0,
            MaxSize: 10,
            DesiredCapacity: 1,
            DefaultCooldown: 300,
            AvailabilityZones: ['us-east-1a'],
            HealthCheckType: 'EC2',
            CreatedTime: new Date(),
            Instances: [member('i-01', 'Pending')]
          }
        ]
      })
      const result = await resolveHosts(clients, { ...query('Role=app'), asgNames: ['app-asg'] })
      expect(result.hosts).toEqual([])
      expect(result.calls).toEqual({ DescribeAutoScalingGroups: 1 })
      expect(ec2Mock).not.toHaveReceivedCommand(DescribeInstancesCommand)
    })

    it('names the API and the code when DescribeAutoScalingGroups fails', async () => {
      asgMock.on(DescribeAutoScalingGroupsCommand).rejects(
        Object.assign(new Error('User is not authorized'), {
          name: 'AccessDenied',
          $metadata: { httpStatusCode: 403 }
        })
      )
      await expect(
        resolveHosts(clients, { ...query('Role=app'), asgNames: ['app-asg'] })
      ).rejects.toThrow(
        "DescribeAutoScalingGroups failed: AccessDenied: User is not authorized. Hint: the role is not allowed to make this call; compare its policy with examples/iam/ (this project's least-privilege policies)"
      )
    })
  })

  it('names the API, the code and the message when DescribeInstances fails', async () => {
    ec2Mock.on(DescribeInstancesCommand).rejects(
      Object.assign(new Error('You are not authorized to perform this operation'), {
        name: 'UnauthorizedOperation',
        $metadata: { httpStatusCode: 403 }
      })
    )
    const err = await resolveHosts(clients, query('Role=app')).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(AwsApiError)
    expect(err).toMatchObject({ api: 'DescribeInstances', code: 'UnauthorizedOperation' })
    expect((err as Error).message).toBe(
      "DescribeInstances failed: UnauthorizedOperation: You are not authorized to perform this operation. Hint: the role is not allowed to make this call; compare its policy with examples/iam/ (this project's least-privilege policies)"
    )
  })

  it('names DescribeInstances when a later page fails', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({
        Reservations: [{ Instances: [instance('i-01', '2026-01-01T00:00:00Z')] }],
        NextToken: 't'
      })
      .rejectsOnce(
        Object.assign(new Error('Rate exceeded'), {
          name: 'RequestLimitExceeded',
          $metadata: { httpStatusCode: 503 }
        })
      )
    await expect(resolveHosts(clients, query('Role=app'))).rejects.toThrow(
      'DescribeInstances failed: RequestLimitExceeded: Rate exceeded (HTTP 503). Hint: AWS throttled the calls beyond the retries; raise max-attempts'
    )
  })
})

describe('toHost', () => {
  it('maps an instance, with its launch template and group from the AWS tags', () => {
    const host = toHost({
      InstanceId: 'i-0abc',
      State: { Name: 'running' },
      LaunchTime: new Date('2026-02-03T04:05:06.000Z'),
      PrivateIpAddress: '10.0.1.5',
      PublicIpAddress: '',
      PrivateDnsName: 'ip-10-0-1-5.ec2.internal',
      Placement: { AvailabilityZone: 'us-east-1b' },
      Tags: [
        { Key: 'Role', Value: 'app' },
        { Key: 'aws:ec2launchtemplate:id', Value: 'lt-0123' },
        { Key: 'aws:ec2launchtemplate:version', Value: '7' },
        { Key: 'aws:autoscaling:groupName', Value: 'app-asg' },
        { Key: 'Empty' }
      ]
    })
    expect(host).toEqual({
      instanceId: 'i-0abc',
      state: 'running',
      launchTime: '2026-02-03T04:05:06.000Z',
      privateIp: '10.0.1.5',
      privateDnsName: 'ip-10-0-1-5.ec2.internal',
      availabilityZone: 'us-east-1b',
      launchTemplateId: 'lt-0123',
      launchTemplateVersion: '7',
      autoScalingGroup: 'app-asg',
      tags: {
        Role: 'app',
        'aws:ec2launchtemplate:id': 'lt-0123',
        'aws:ec2launchtemplate:version': '7',
        'aws:autoscaling:groupName': 'app-asg',
        Empty: ''
      }
    })
  })

  it('skips an instance without an id', () => {
    expect(toHost({ State: { Name: 'running' } })).toBeUndefined()
  })
})

describe('helpers', () => {
  const host = (instanceId: string, launchTime: string): Host => ({
    instanceId,
    launchTime,
    state: 'running',
    tags: {}
  })

  it('compareHosts falls back to the id when a launch time is missing', () => {
    const hosts = [host('i-b', ''), host('i-a', '2026-01-01T00:00:00Z'), host('i-c', '')]
    expect([...hosts].sort(compareHosts).map((h) => h.instanceId)).toEqual(['i-a', 'i-b', 'i-c'])
  })

  it('ec2Filters and describeQuery say the same thing', () => {
    const q: HostQuery = { tags: parseTags('tags', 'Role=app'), states: ['running'] }
    expect(ec2Filters(q)).toEqual([
      { Name: 'tag:Role', Values: ['app'] },
      { Name: 'instance-state-name', Values: ['running'] }
    ])
    expect(describeQuery(q)).toBe('tag:Role in (app) AND instance-state-name in (running)')
  })

  it('chunk splits in order', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
    expect(chunk([], 2)).toEqual([])
  })
})

describe('readHostQuery and hostOutputs (the adapter side)', () => {
  const inputs = (values: Record<string, string>): Inputs =>
    new Inputs((name) => values[name] ?? '')

  it('reads tags and asg-name; states come from the caller (only resolve-hosts has them)', () => {
    const given = inputs({
      tags: 'Role=app,Environment=production',
      states: 'stopped',
      'asg-name': 'app-asg'
    })
    const q = readHostQuery(given, { requireSelector: true, states: ['running', 'stopped'] })
    expect(Object.fromEntries(q.tags)).toEqual({ Role: ['app'], Environment: ['production'] })
    expect(q.states).toEqual(['running', 'stopped'])
    expect(q.asgNames).toEqual(['app-asg'])
    expect(q.description).toBe(
      'tag:Role in (app) AND tag:Environment in (production) AND instance-state-name in (running, stopped) AND member of Auto Scaling group app-asg (InService, Standby)'
    )
    // Without states from the caller: running only, whatever a `states` input says.
    expect(readHostQuery(given, { requireSelector: true }).states).toEqual(['running'])
  })

  it('reads several groups in asg-name, one per line or comma separated', () => {
    const q = readHostQuery(inputs({ 'asg-name': 'web-asg, worker-asg\nspot-asg\n' }), {
      requireSelector: true
    })
    expect(q.asgNames).toEqual(['web-asg', 'worker-asg', 'spot-asg'])
    expect(q.description).toBe(
      'instance-state-name in (running) AND member of Auto Scaling groups web-asg, worker-asg, spot-asg (InService, Standby)'
    )
    // A list of nothing is no selector.
    expect(
      failureOf(
        () => readHostQuery(inputs({ 'asg-name': ' , ' }), { requireSelector: true }),
        FIELDS
      )
    ).toContain('Input "tags": neither tags nor asg-name is set.')
  })

  it('refuses to select every instance in the region', () => {
    expect(failureOf(() => readHostQuery(inputs({}), { requireSelector: true }), FIELDS)).toContain(
      'Input "tags": neither tags nor asg-name is set.'
    )
    expect(readHostQuery(inputs({}), { requireSelector: false }).tags.size).toBe(0)
  })

  it('writes outputs in host order, empty values dropped', () => {
    const hosts: Host[] = [
      { instanceId: 'i-1', state: 'running', launchTime: 't1', privateIp: '10.0.0.1', tags: {} },
      {
        instanceId: 'i-2',
        state: 'running',
        launchTime: 't2',
        privateDnsName: 'ip-10-0-0-2',
        publicDnsName: 'ec2-1.compute.amazonaws.com',
        tags: {}
      }
    ]
    expect(hostOutputs(hosts)).toEqual({
      'instance-ids': ['i-1', 'i-2'],
      'private-ips': ['10.0.0.1'],
      'private-dns-names': ['ip-10-0-0-2'],
      'public-dns-names': ['ec2-1.compute.amazonaws.com'],
      count: 2,
      'primary-instance-id': 'i-1',
      releases: {},
      hosts
    })
    expect(hostOutputs([])).toEqual({
      'instance-ids': [],
      'private-ips': [],
      'private-dns-names': [],
      'public-dns-names': [],
      count: 0,
      'primary-instance-id': '',
      releases: {},
      hosts: []
    })
  })
})
