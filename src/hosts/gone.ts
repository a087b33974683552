/**
 * The rollout's `goneHosts` hook, from EC2: which instances are shutting down, terminated, or
 * no longer exist (describeInstances leaves an id EC2 forgot out: `not-found`).
 */
import { DescribeInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { awsErrorCode, wrapAwsError } from '../errors.js'
import { describeInstances } from './instances.js'

const GONE_STATES = new Set(['shutting-down', 'terminated'])

export async function goneInstances(
  ec2: EC2Client,
  instanceIds: readonly string[]
): Promise<Map<string, string>> {
  const states = new Map<string, string>()
  try {
    for (const i of await describeInstances(ec2, { instanceIds }))
      if (i.InstanceId) states.set(i.InstanceId, i.State?.Name ?? 'unknown')
  } catch (err) {
    if (awsErrorCode(err) !== 'InvalidInstanceID.NotFound') throw err
    // Not expected with a filter; should EC2 answer it anyway, each id is asked about alone,
    // so a host still running is never taken for gone.
    return oneByOne(ec2, instanceIds)
  }
  const gone = new Map<string, string>()
  for (const id of instanceIds) {
    const state = states.get(id)
    if (state === undefined) gone.set(id, 'not-found')
    else if (GONE_STATES.has(state)) gone.set(id, state)
  }
  return gone
}

async function oneByOne(
  ec2: EC2Client,
  instanceIds: readonly string[]
): Promise<Map<string, string>> {
  const gone = new Map<string, string>()
  for (const id of instanceIds) {
    try {
      const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))
      const state = out.Reservations?.[0]?.Instances?.[0]?.State?.Name
      if (state && GONE_STATES.has(state)) gone.set(id, state)
    } catch (err) {
      if (awsErrorCode(err) !== 'InvalidInstanceID.NotFound')
        throw wrapAwsError('DescribeInstances', err)
      gone.set(id, 'not-found')
    }
  }
  return gone
}
