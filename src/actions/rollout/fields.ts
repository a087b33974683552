/** rollout: the core's fields by this action's input names. */
import {
  CLIENT_FIELDS,
  COMMIT_FIELDS,
  type FieldNames,
  HOST_FIELDS,
  RELEASE_FIELDS,
  ROLLOUT_FIELDS,
  TRAFFIC_FIELDS
} from '../shared/fields.js'

export const FIELDS: FieldNames = {
  ...CLIENT_FIELDS,
  ...COMMIT_FIELDS,
  ...HOST_FIELDS,
  instanceIds: 'instance-ids',
  ...ROLLOUT_FIELDS,
  ...RELEASE_FIELDS,
  ...TRAFFIC_FIELDS,
  // Where a rollback returns to: the template's default version and the code device.
  launchTemplate: 'launch-template',
  device: 'device'
}
