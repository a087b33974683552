import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2'
import { createClients, resolveRegion, userAgent } from '../../src/aws/clients.js'
import { SettingError } from '../../src/errors.js'
import { PROJECT, VERSION } from '../../src/version.js'

const NO_REGION =
  'Setting "region": no region was given and neither AWS_REGION nor AWS_DEFAULT_REGION is set. Set region, or run aws-actions/configure-aws-credentials (with aws-region) before this step.'

describe('resolveRegion', () => {
  it('takes the input first', () => {
    expect(
      resolveRegion('eu-west-1', { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' })
    ).toBe('eu-west-1')
    expect(resolveRegion('  ap-southeast-2 ', {})).toBe('ap-southeast-2')
  })

  it('then AWS_REGION, then AWS_DEFAULT_REGION', () => {
    expect(resolveRegion('', { AWS_REGION: 'us-east-1', AWS_DEFAULT_REGION: 'us-west-2' })).toBe(
      'us-east-1'
    )
    expect(resolveRegion(undefined, { AWS_REGION: ' ', AWS_DEFAULT_REGION: 'us-west-2' })).toBe(
      'us-west-2'
    )
  })

  it('names the variable when the region from the environment is malformed', () => {
    expect(() => resolveRegion('', { AWS_REGION: 'eu-west-1a' })).toThrow(
      'Setting "region": is not set and AWS_REGION is "eu-west-1a", not an AWS region. Expected e.g. "us-east-1".'
    )
    expect(() => resolveRegion('', { AWS_DEFAULT_REGION: 'Frankfurt' })).toThrow(
      'AWS_DEFAULT_REGION is "Frankfurt"'
    )
  })

  it('accepts the region shapes AWS uses', () => {
    for (const region of ['us-gov-west-1', 'cn-north-1', 'eu-central-2', 'il-central-1']) {
      expect(resolveRegion(region, {})).toBe(region)
    }
  })

  it('says how to give a region when there is none', () => {
    expect(() => resolveRegion('', {})).toThrow(SettingError)
    expect(() => resolveRegion(undefined, { AWS_REGION: '', AWS_DEFAULT_REGION: '  ' })).toThrow(
      NO_REGION
    )
  })

  it.each(['us east 1', 'US-EAST-1', 'us-east', 'useast1', 'eu-west-1a', 'https://ec2.aws'])(
    'rejects the malformed region %j, naming aws-region',
    (region) => {
      expect(() => resolveRegion(region, { AWS_REGION: 'us-east-1' })).toThrow(
        `Setting "region": ${JSON.stringify(region)} is not an AWS region. Expected e.g. "us-east-1".`
      )
    }
  )
})

describe('userAgent', () => {
  it('names the project and version, the action, and the run with its attempt', () => {
    expect(userAgent('rollout', { id: '1234', attempt: '2' })).toEqual([
      ['ebs-autoscale', VERSION],
      ['action/rollout'],
      ['run/1234-2']
    ])
    expect(PROJECT).toBe('ebs-autoscale')
  })

  it('takes attempt 1 when the front end gives none, and leaves the run out without one', () => {
    expect(userAgent('deploy', { id: '77', attempt: '' })).toEqual([
      ['ebs-autoscale', VERSION],
      ['action/deploy'],
      ['run/77-1']
    ])
    expect(userAgent('deploy')).toEqual([['ebs-autoscale', VERSION], ['action/deploy']])
    expect(userAgent('deploy', { id: '', attempt: '1' })).toEqual([
      ['ebs-autoscale', VERSION],
      ['action/deploy']
    ])
  })
})

describe('createClients', () => {
  const env = { AWS_REGION: 'us-east-1' }
  const run = { id: '99', attempt: '3' }

  it('gives every client the region, adaptive retries, max attempts and the user agent', async () => {
    const clients = createClients({
      region: 'eu-west-1',
      maxAttempts: 7,
      action: 'snapshot',
      env,
      run
    })
    expect(clients.region).toBe('eu-west-1')
    for (const client of [clients.ec2, clients.ssm, clients.autoscaling]) {
      expect(await client.config.region()).toBe('eu-west-1')
      expect(await client.config.maxAttempts()).toBe(7)
      expect(client.config.retryMode).toBe('adaptive')
      expect((await client.config.retryStrategy()).constructor.name).toBe('AdaptiveRetryStrategy')
      expect(client.config.customUserAgent).toEqual([
        ['ebs-autoscale', VERSION],
        ['action/snapshot'],
        ['run/99-3']
      ])
    }
  })

  it('takes the run from the front end, never from GITHUB_* variables', async () => {
    const clients = createClients({
      maxAttempts: 1,
      action: 'deploy',
      env: { ...env, GITHUB_RUN_ID: '5', GITHUB_RUN_ATTEMPT: '1' }
    })
    expect(clients.ec2.config.customUserAgent).toEqual([
      ['ebs-autoscale', VERSION],
      ['action/deploy']
    ])
  })

  it('falls back to the environment for the region', async () => {
    const clients = createClients({ maxAttempts: 1, action: 'resolve-hosts', env })
    expect(clients.region).toBe('us-east-1')
    expect(await clients.ec2.config.region()).toBe('us-east-1')
    expect(await clients.ec2.config.maxAttempts()).toBe(1)
  })

  it('fails before making any client when there is no region', () => {
    expect(() => createClients({ maxAttempts: 5, action: 'resolve-hosts', env: {} })).toThrow(
      NO_REGION
    )
    expect(() =>
      createClients({ region: 'moon-1', maxAttempts: 5, action: 'resolve-hosts', env })
    ).toThrow('Setting "region": "moon-1" is not an AWS region.')
  })

  describe('on the wire', () => {
    let server: Server
    let endpoint: string
    const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = []
    const saved = { ...process.env }

    beforeAll(async () => {
      process.env['AWS_ACCESS_KEY_ID'] = 'testing'
      process.env['AWS_SECRET_ACCESS_KEY'] = 'testing'
      delete process.env['AWS_SESSION_TOKEN']
      delete process.env['AWS_PROFILE']
      server = createServer((req, res) => {
        let body = ''
        req.on('data', (d: Buffer) => (body += d.toString()))
        req.on('end', () => {
          seen.push({ headers: req.headers, body })
          res.writeHead(200, { 'content-type': 'text/xml' })
          res.end(
            '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>'
          )
        })
      })
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
      endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    })

    afterAll(async () => {
      process.env = saved
      await new Promise((r) => server.close(r))
    })

    it('sends the user agent and goes to the explicit endpoint', async () => {
      const clients = createClients({
        region: 'eu-west-1',
        maxAttempts: 1,
        action: 'resolve-hosts',
        endpoint,
        env,
        run
      })
      const out = await clients.ec2.send(new DescribeInstancesCommand({}))
      expect(out.Reservations).toEqual([])
      expect(seen).toHaveLength(1)
      const ua = `${seen[0]!.headers['user-agent'] ?? ''} ${seen[0]!.headers['x-amz-user-agent'] ?? ''}`
      expect(ua).toContain(`ebs-autoscale/${VERSION}`)
      expect(ua).toContain('action/resolve-hosts')
      expect(ua).toContain('run/99-3')
      expect(seen[0]!.body).toContain('Action=DescribeInstances')
      expect(seen[0]!.headers['authorization']).toContain('/eu-west-1/ec2/aws4_request')
    })
  })
})
