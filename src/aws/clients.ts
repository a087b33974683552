/**
 * The one place AWS clients are made: region, adaptive retries, a user agent naming this
 * project, and the default credential chain. The SDK's own AWS_ENDPOINT_URL support is left
 * alone, so the same bundle runs against AWS or an emulator.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { EC2Client } from '@aws-sdk/client-ec2'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { S3Client } from '@aws-sdk/client-s3'
import { SSMClient } from '@aws-sdk/client-ssm'
import { setting, SettingError } from '../errors.js'
import { PROJECT, VERSION } from '../version.js'

/**
 * The one client bag the core takes, for one region (summaries link to the console there):
 * each domain function picks the clients it needs. Work in another region gets its own bag.
 */
export interface Clients {
  readonly region: string
  readonly ec2: EC2Client
  readonly ssm: SSMClient
  readonly autoscaling: AutoScalingClient
  readonly elbv2: ElasticLoadBalancingV2Client
  /** The artifact store (releases); making it costs nothing until a call is made. */
  readonly s3: S3Client
  readonly cloudwatch: CloudWatchClient
}

/** A CI run and its attempt (GitHub's run id and run attempt). */
export interface RunRef {
  id: string
  attempt: string
}

export interface ClientOptions {
  /** The `aws-region` input; '' or undefined falls back to the environment. */
  region?: string
  /** Attempts per call, retries included (adaptive mode also rate-limits itself when throttled). */
  maxAttempts: number
  /** The action making the calls, for the user agent (`resolve-hosts`, `deploy`...). */
  action: string
  /** The CI run making the calls, for the user agent; the front end supplies it. */
  run?: RunRef
  /** An explicit endpoint (tests, benchmarks); the AWS_ENDPOINT_URL variable works too. */
  endpoint?: string
  /** Where AWS_REGION and the endpoint variables are read (the AWS SDK's own conventions). */
  env?: NodeJS.ProcessEnv
}

const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/

export function resolveRegion(
  input: string | undefined,
  env: NodeJS.ProcessEnv = process.env
): string {
  const fromInput = input?.trim()
  if (fromInput) {
    if (!REGION_PATTERN.test(fromInput)) {
      throw new SettingError(
        'region',
        `${JSON.stringify(fromInput)} is not an AWS region. Expected e.g. "us-east-1".`
      )
    }
    return fromInput
  }
  for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION']) {
    const fromEnv = env[name]?.trim()
    if (!fromEnv) continue
    if (!REGION_PATTERN.test(fromEnv)) {
      throw new SettingError(
        'region',
        `is not set and ${name} is ${JSON.stringify(fromEnv)}, not an AWS region. Expected e.g. "us-east-1".`
      )
    }
    return fromEnv
  }
  throw new SettingError(
    'region',
    `no region was given and neither AWS_REGION nor AWS_DEFAULT_REGION is set. Set ${setting('region')}, or run aws-actions/configure-aws-credentials (with aws-region) before this step.`
  )
}

/** `ebs-autoscale/0.1.0 action/rollout run/1234-2`, appended to the SDK's own user agent. */
export function userAgent(action: string, run?: RunRef): Array<[string, string?]> {
  const ua: Array<[string, string?]> = [[PROJECT, VERSION], [`action/${action}`]]
  if (run?.id) ua.push([`run/${run.id}-${run.attempt || '1'}`])
  return ua
}

function clientConfig(options: ClientOptions) {
  return {
    region: resolveRegion(options.region, options.env),
    maxAttempts: options.maxAttempts,
    retryMode: 'adaptive',
    customUserAgent: userAgent(options.action, options.run),
    ...(options.endpoint ? { endpoint: options.endpoint } : {})
  }
}

export function createClients(options: ClientOptions): Clients {
  const config = clientConfig(options)
  const region = config.region
  return {
    region,
    ec2: new EC2Client(config),
    ssm: new SSMClient(config),
    autoscaling: new AutoScalingClient(config),
    elbv2: new ElasticLoadBalancingV2Client(config),
    s3: createS3Client(options),
    cloudwatch: new CloudWatchClient(config)
  }
}

/**
 * The artifact store's client (only runs that ship an `artifact` make one). Path-style addressing
 * when an endpoint is set (an emulator on an IP address has no bucket subdomains); AWS itself gets
 * the SDK's default, virtual-hosted URLs, which is also what the presigned GETs carry.
 */
export function createS3Client(options: ClientOptions): S3Client {
  const env = options.env ?? process.env
  const endpoint = options.endpoint ?? env['AWS_ENDPOINT_URL_S3'] ?? env['AWS_ENDPOINT_URL']
  return new S3Client({ ...clientConfig(options), ...(endpoint ? { forcePathStyle: true } : {}) })
}
