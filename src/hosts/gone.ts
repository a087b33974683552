/**
 * The rollout's `goneHosts` hook, from EC2: which instances are shutting down, terminated, or
 * no longer exist. One DescribeInstances call per 200 ids. An `instance-id` filter, not
 * InstanceIds: an id EC2 forgot (terminated over an hour ago) is then simply absent, where
 * InstanceIds would fail the whole call with InvalidInstanceID.NotFound.
 */
import {
  DescribeInstancesCommand,
  type EC2Client,
  paginateDescribeInstances
} from '@aws-sdk/client-ec2'
import { chunk } from '../collections.js'
import { awsErrorCode, wrapAwsError } from '../errors.js'

const GONE_STATES = new Set(['shutting-down', 'terminated'])

/** Filter values per call (DescribeInstances takes 200 values in a filter). */
const IDS_PER_CALL = 200

export async function goneInstances(
  ec2: EC2Client,
  instanceIds: readonly string[]
): Promise<Map<string, string>> {
  const states = new Map<string, string>()
  try {
    for (const ids of chunk([...instanceIds], IDS_PER_CALL)) {
      const filters = [{ Name: 'instance-id', Values: ids }]
      for await (const page of paginateDescribeInstances({ client: ec2 }, { Filters: filters }))
        for (const r of page.Reservations ?? [])
          for (const i of r.Instances ?? [])
            if (i.InstanceId) states.set(i.InstanceId, i.State?.Name ?? 'unknown')
    }
  } catch (err) {
    if (awsErrorCode(err) !== 'InvalidInstanceID.NotFound')
      throw wrapAwsError('DescribeInstances', err)
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
