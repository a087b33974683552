/**
 * The rules for choosing a rollout's hosts by id or by a query, whoever reads them: typed values
 * in, the selection or a SettingError naming the field out. Checked before any AWS call.
 */
import { setting, SettingError } from '../errors.js'
import type { HostSelection } from './find.js'
import { INSTANCE_ID } from './host.js'
import type { HostQuery } from './resolve.js'

/** Instance ids as given, the first the primary. */
export function checkInstanceIds(instanceIds: readonly string[]): void {
  const bad = instanceIds.find((id) => !INSTANCE_ID.test(id))
  if (bad !== undefined) {
    throw new SettingError(
      'instanceIds',
      `${JSON.stringify(bad)} is not an instance id. Expected ids like "i-0123456789abcdef0".`
    )
  }
}

/** Instance ids, or a query by tags and/or groups: one way to choose the hosts. */
export function hostSelectionOf(instanceIds: readonly string[], query: HostQuery): HostSelection {
  const byQuery = query.tags.size > 0 || !!query.asgNames?.length
  if (instanceIds.length && byQuery) {
    throw new SettingError(
      'instanceIds',
      `is set together with ${setting('tags')} or ${setting('groups')}. Expected one way to choose the hosts: ${setting('instanceIds')}, or ${setting('tags')} and/or ${setting('groups')}.`
    )
  }
  if (!instanceIds.length && !byQuery) {
    throw new SettingError(
      'instanceIds',
      `is empty and neither ${setting('tags')} nor ${setting('groups')} is set. Expected the hosts: ${setting('instanceIds')} (e.g. resolve-hosts' instance-ids output), or ${setting('tags')} and/or ${setting('groups')}.`
    )
  }
  return instanceIds.length ? { instanceIds } : { query }
}
