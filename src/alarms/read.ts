/**
 * Reads named CloudWatch alarms, metric and composite alike: DescribeAlarms by AlarmNames (at
 * most 100 per call), every page. A name CloudWatch does not know is an error naming it: a
 * typo must not pass as an alarm that never fires.
 */
import {
  type CloudWatchClient,
  type CompositeAlarm,
  DescribeAlarmsCommand,
  type MetricAlarm
} from '@aws-sdk/client-cloudwatch'
import { chunk } from '../collections.js'
import { ActionError, aws } from '../errors.js'
import type { AlarmState, AlarmStateValue } from './types.js'

/** DescribeAlarms takes at most 100 AlarmNames. */
const NAMES_PER_CALL = 100

export async function readAlarms(
  cloudwatch: CloudWatchClient,
  names: readonly string[]
): Promise<AlarmState[]> {
  const found = new Map<string, AlarmState>()
  for (const batch of chunk([...new Set(names)], NAMES_PER_CALL)) {
    let token: string | undefined
    do {
      const out = await aws(
        'DescribeAlarms',
        cloudwatch.send(
          new DescribeAlarmsCommand({
            AlarmNames: batch,
            AlarmTypes: ['MetricAlarm', 'CompositeAlarm'],
            ...(token ? { NextToken: token } : {})
          })
        )
      )
      for (const a of out.MetricAlarms ?? []) add(found, a, 'metric')
      for (const a of out.CompositeAlarms ?? []) add(found, a, 'composite')
      token = out.NextToken
    } while (token)
  }
  const missing = names.filter((n) => !found.has(n))
  if (missing.length)
    throw new ActionError(
      `CloudWatch has no alarm named ${missing.map((n) => `"${n}"`).join(', ')} in this region. Check the alarms input (names are case-sensitive) and aws-region.`
    )
  return names.map((n) => found.get(n)!)
}

function add(
  found: Map<string, AlarmState>,
  a: MetricAlarm | CompositeAlarm,
  kind: AlarmState['kind']
): void {
  if (!a.AlarmName) return
  found.set(a.AlarmName, {
    name: a.AlarmName,
    kind,
    state: (a.StateValue ?? 'INSUFFICIENT_DATA') as AlarmStateValue,
    reason: a.StateReason ?? '',
    ...(a.StateUpdatedTimestamp ? { updatedAt: a.StateUpdatedTimestamp } : {})
  })
}
