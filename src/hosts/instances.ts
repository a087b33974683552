/**
 * DescribeInstances, every page. Instance ids go in as an `instance-id` filter, 200 values a
 * call, not as InstanceIds: an id EC2 no longer knows (terminated since it was listed) is then
 * simply absent, where InstanceIds would fail the whole call with InvalidInstanceID.NotFound.
 */
import {
  type EC2Client,
  type Filter,
  type Instance,
  paginateDescribeInstances
} from '@aws-sdk/client-ec2'
import { chunk } from '../collections.js'
import { wrapAwsError } from '../errors.js'

/** EC2 takes at most 200 values in one filter. */
const FILTER_VALUES_MAX = 200

export interface InstanceQuery {
  filters?: readonly Filter[]
  /** Only these instances; undefined: every instance the filters match. */
  instanceIds?: readonly string[]
  pageSize?: number
  /** Called once a page (the resolve step counts its calls). */
  onPage?: () => void
}

export async function describeInstances(ec2: EC2Client, query: InstanceQuery): Promise<Instance[]> {
  const filters = query.filters ?? []
  const idChunks: Array<string[] | undefined> = query.instanceIds
    ? chunk([...query.instanceIds], FILTER_VALUES_MAX)
    : [undefined]
  const instances: Instance[] = []
  try {
    for (const ids of idChunks) {
      const pageFilters = ids ? [...filters, { Name: 'instance-id', Values: ids }] : [...filters]
      for await (const page of paginateDescribeInstances(
        { client: ec2, ...(query.pageSize ? { pageSize: query.pageSize } : {}) },
        { Filters: pageFilters }
      )) {
        query.onPage?.()
        for (const r of page.Reservations ?? []) instances.push(...(r.Instances ?? []))
      }
    }
  } catch (err) {
    throw wrapAwsError('DescribeInstances', err)
  }
  return instances
}
