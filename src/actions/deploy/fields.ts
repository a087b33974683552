/** deploy: the core's fields by this action's input names. */
import {
  CLIENT_FIELDS,
  COMMIT_FIELDS,
  type FieldNames,
  HOST_FIELDS,
  RELEASE_FIELDS,
  PUBLISH_FIELDS,
  ROLLOUT_FIELDS,
  SNAPSHOT_FIELDS,
  TRAFFIC_FIELDS
} from '../shared/fields.js'

export const FIELDS: FieldNames = {
  ...CLIENT_FIELDS,
  ...COMMIT_FIELDS,
  ...HOST_FIELDS,
  ...ROLLOUT_FIELDS,
  ...RELEASE_FIELDS,
  ...TRAFFIC_FIELDS,
  ...SNAPSHOT_FIELDS,
  ...PUBLISH_FIELDS,
  // Beside the rollout's inputs, the snapshot's description is named for the snapshot.
  description: 'snapshot-description'
}
