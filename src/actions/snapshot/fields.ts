/** snapshot: the core's fields by this action's input names. */
import {
  CLIENT_FIELDS,
  COMMIT_FIELDS,
  type FieldNames,
  PUBLISH_FIELDS,
  SNAPSHOT_FIELDS
} from '../shared/fields.js'

export const FIELDS: FieldNames = {
  ...CLIENT_FIELDS,
  ...COMMIT_FIELDS,
  instanceId: 'instance-id',
  volumeId: 'volume-id',
  wait: 'wait',
  ...SNAPSHOT_FIELDS,
  ...PUBLISH_FIELDS
}
