/**
 * The committed resolve-hosts bundle, run as the runner runs it: bad inputs fail before any
 * AWS call (a local HTTP server stands in for AWS and records every request), and a seeded
 * fleet in the emulator comes back with exact outputs and a summary.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DescribeInstancesCommand, type Instance } from '@aws-sdk/client-ec2'
import { launch, sleep, stop } from '../../support/emulator/world.js'
import { annotations, BUNDLES, runBundle } from '../../support/bundle.js'
import { useEmulator } from '../helpers/emulator.js'

const BUNDLE = BUNDLES['resolve-hosts']

/** Stands in for AWS: answers an empty DescribeInstances and records every request. */
class Recorder {
  readonly requests: Array<{ method: string; url: string; body: string }> = []
  private server: Server | undefined
  endpoint = ''

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      let body = ''
      req.on('data', (d: Buffer) => (body += d.toString()))
      req.on('end', () => {
        this.requests.push({ method: req.method ?? '', url: req.url ?? '', body })
        res.writeHead(200, { 'content-type': 'text/xml' })
        res.end(
          '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>'
        )
      })
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r))
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r))
  }
}

describe('bad inputs fail before any AWS call', () => {
  const recorder = new Recorder()
  beforeAll(() => recorder.start())
  afterAll(() => recorder.stop())
  beforeEach(() => {
    recorder.requests.length = 0
  })

  const env = (withRegion = true): Record<string, string> => ({
    AWS_ENDPOINT_URL: recorder.endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...(withRegion ? { AWS_REGION: 'us-east-1' } : {})
  })

  it('the recorder does see the calls of a good run (so silence below means something)', async () => {
    const run = await runBundle(BUNDLE, { tags: 'Role=app', 'fail-if-empty': 'false' }, env())
    expect(run.exitCode).toBe(0)
    expect(recorder.requests.length).toBeGreaterThanOrEqual(1)
    expect(recorder.requests[0]!.body).toContain('Action=DescribeInstances')
    expect(recorder.requests[0]!.body).toContain('Filter.1.Name=tag%3ARole')
    expect(run.outputs['count']).toBe('0')
  })

  it.each([
    [
      'no region anywhere',
      { tags: 'Role=app' },
      false,
      'Input "aws-region": no region was given and neither AWS_REGION nor AWS_DEFAULT_REGION is set. Set aws-region, or run aws-actions/configure-aws-credentials (with aws-region) before this step.'
    ],
    [
      'a malformed region',
      { tags: 'Role=app', 'aws-region': 'us-east' },
      true,
      'Input "aws-region": "us-east" is not an AWS region. Expected e.g. "us-east-1".'
    ],
    [
      'a tag without =',
      { tags: 'Role' },
      true,
      'Input "tags": "Role" has no "=". Expected Key=Value pairs, one per line or comma separated, e.g. "Role=app".'
    ],
    [
      'an empty tag key',
      { tags: 'Role=app\n=production' },
      true,
      'Input "tags": "=production" has an empty key. Expected Key=Value, e.g. "Role=app".'
    ],
    [
      'an unknown instance state',
      { tags: 'Role=app', states: 'running,sleeping' },
      true,
      'Input "states": "sleeping" is not one of: pending, running, shutting-down, terminated, stopping, stopped.'
    ],
    [
      'a negative max-attempts',
      { tags: 'Role=app', 'max-attempts': '-1' },
      true,
      'Input "max-attempts": "-1" is out of range. Expected a whole number between 1 and 20.'
    ],
    [
      'a non-numeric max-attempts',
      { tags: 'Role=app', 'max-attempts': 'lots' },
      true,
      'Input "max-attempts": "lots" is not a whole number. Expected a whole number between 1 and 20.'
    ],
    [
      'a fail-if-empty that is not a boolean',
      { tags: 'Role=app', 'fail-if-empty': 'maybe' },
      true,
      'Input "fail-if-empty": "maybe" is not a boolean. Expected true or false.'
    ],
    [
      'neither tags nor asg-name',
      { states: 'running' },
      true,
      'Input "tags": neither tags nor asg-name is set. Expected Key=Value tags (e.g. "Role=app"), an asg-name, or both; selecting every instance in the region is never what a deploy wants.'
    ]
  ])('%s', async (_case, inputs, withRegion, message) => {
    const run = await runBundle(BUNDLE, inputs, env(withRegion))
    expect(run.exitCode).toBe(1)
    expect(annotations(run.stdout, 'error')).toEqual([message])
    expect(recorder.requests).toEqual([])
    expect(run.outputs).toEqual({})
  })
})

describe('against the emulator', () => {
  const emulator = useEmulator()

  /** The host object the action should report for an instance, built field by field. */
  function expectedHost(i: Instance): Record<string, unknown> {
    const host: Record<string, unknown> = {
      instanceId: i.InstanceId,
      state: i.State!.Name,
      launchTime: i.LaunchTime!.toISOString(),
      tags: Object.fromEntries((i.Tags ?? []).map((t) => [t.Key, t.Value ?? '']))
    }
    if (i.PrivateIpAddress) host['privateIp'] = i.PrivateIpAddress
    if (i.PublicIpAddress) host['publicIp'] = i.PublicIpAddress
    if (i.PrivateDnsName) host['privateDnsName'] = i.PrivateDnsName
    if (i.PublicDnsName) host['publicDnsName'] = i.PublicDnsName
    if (i.Placement?.AvailabilityZone) host['availabilityZone'] = i.Placement.AvailabilityZone
    return host
  }

  it('finds the fleet: exact outputs, oldest first, and a summary table', async () => {
    const { ec2 } = emulator.clients
    const prod = { Role: 'app', Environment: 'production' }
    const first = await launch(ec2, 2, prod)
    await sleep(1100)
    const second = await launch(ec2, 3, prod)
    await launch(ec2, 2, { Role: 'app', Environment: 'staging' })
    await launch(ec2, 2, { Role: 'worker', Environment: 'production' })
    const stopped = await launch(ec2, 1, prod)
    await stop(ec2, stopped)

    const described = await ec2.send(
      new DescribeInstancesCommand({ InstanceIds: [...first, ...second] })
    )
    const instances = (described.Reservations ?? []).flatMap((r) => r.Instances ?? [])
    instances.sort(
      (a, b) =>
        a.LaunchTime!.getTime() - b.LaunchTime!.getTime() ||
        a.InstanceId!.localeCompare(b.InstanceId!)
    )
    const ids = instances.map((i) => i.InstanceId!)
    // The two launched first come first, whatever their ids.
    expect([...ids.slice(0, 2)].sort()).toEqual([...first].sort())

    const run = await runBundle(
      BUNDLE,
      { tags: 'Role=app\nEnvironment=production', states: 'running' },
      emulator.env
    )
    expect(run.stderr).toBe('')
    expect(run.exitCode).toBe(0)
    expect(JSON.parse(run.outputs['instance-ids']!)).toEqual(ids)
    expect(JSON.parse(run.outputs['private-ips']!)).toEqual(
      instances.map((i) => i.PrivateIpAddress)
    )
    expect(JSON.parse(run.outputs['private-dns-names']!)).toEqual(
      instances.map((i) => i.PrivateDnsName)
    )
    expect(run.outputs['count']).toBe('5')
    expect(run.outputs['primary-instance-id']).toBe(ids[0])
    expect(JSON.parse(run.outputs['hosts']!)).toEqual(instances.map(expectedHost))
    expect(Object.keys(run.outputs).sort()).toEqual([
      'count',
      'hosts',
      'instance-ids',
      'primary-instance-id',
      'private-dns-names',
      'private-ips',
      'public-dns-names',
      'releases'
    ])
    // No host was ever switched to a release here: none carries the tag.
    expect(run.outputs['releases']).toBe('{}')

    expect(run.stdout).toContain(
      'Looking for instances in us-east-1: tag:Role in (app) AND tag:Environment in (production) AND instance-state-name in (running)'
    )
    expect(run.stdout).toContain(`Found 5 instance(s); primary ${ids[0]}`)
    expect(run.summary).toContain('## resolve-hosts\n\nFilter: ')
    expect(run.summary).toContain(
      'Filter: tag:Role in (app) AND tag:Environment in (production) AND instance-state-name in (running)'
    )
    expect(run.summary).toContain(
      '| # | Instance | Private IP | AZ | Launched | Template version | Auto Scaling group |'
    )
    instances.forEach((i, n) => {
      const row = `| ${n === 0 ? '1 (primary)' : n + 1} | \`${i.InstanceId}\` | ${i.PrivateIpAddress} | ${i.Placement!.AvailabilityZone} | ${i.LaunchTime!.toISOString().replace(/\.\d+Z$/, 'Z')} | – | – |`
      expect(run.summary).toContain(row)
    })
  })

  it('fails when nothing matches and fail-if-empty is true (the default)', async () => {
    await launch(emulator.clients.ec2, 2, { Role: 'worker' })
    const run = await runBundle(BUNDLE, { tags: 'Role=app' }, emulator.env)
    expect(run.exitCode).toBe(1)
    expect(annotations(run.stdout, 'error')).toEqual([
      'No instance matched tag:Role in (app) AND instance-state-name in (running) in us-east-1. Check the tags, states and region, or set fail-if-empty: false.'
    ])
    // The outputs and the summary are still written, for a later step to inspect.
    expect(run.outputs['count']).toBe('0')
    expect(run.summary).toContain('**No instance matched.**')
  })

  it('succeeds with count 0 when nothing matches and fail-if-empty is false', async () => {
    await launch(emulator.clients.ec2, 2, { Role: 'worker' })
    const run = await runBundle(
      BUNDLE,
      { tags: 'Role=app', 'fail-if-empty': 'false' },
      emulator.env
    )
    expect(run.exitCode).toBe(0)
    expect(annotations(run.stdout, 'error')).toEqual([])
    expect(run.outputs).toEqual({
      'instance-ids': '[]',
      'private-ips': '[]',
      'private-dns-names': '[]',
      'public-dns-names': '[]',
      count: '0',
      'primary-instance-id': '',
      releases: '{}',
      hosts: '[]'
    })
  })

  it('fails after the lookup when asg-name names no group, naming asg-name', async () => {
    await launch(emulator.clients.ec2, 2, { Role: 'app' })
    const run = await runBundle(
      BUNDLE,
      { tags: 'Role=app', 'asg-name': 'no-such-group' },
      emulator.env
    )
    expect(run.exitCode).toBe(1)
    expect(annotations(run.stdout, 'error')).toEqual([
      'Input "asg-name": Auto Scaling group "no-such-group" does not exist in this region. Expected the name of an existing group.'
    ])
    expect(run.outputs).toEqual({})
  })
})
