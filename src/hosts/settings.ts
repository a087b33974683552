/**
 * The rule for querying hosts, whoever reads it: a query in, a SettingError naming the field
 * out. Checked before any AWS call.
 */
import { setting, SettingError } from '../errors.js'
import type { HostQuery } from './resolve.js'

/** Tags and/or groups: a query with neither would select every instance in the region. */
export function checkHostSelector(query: HostQuery): void {
  if (query.tags.size === 0 && !query.asgNames?.length) {
    throw new SettingError(
      'tags',
      `neither ${setting('tags')} nor ${setting('groups')} is set. Expected Key=Value tags (e.g. "Role=app"), an ${setting('groups')}, or both; selecting every instance in the region is never what a deploy wants.`
    )
  }
}
