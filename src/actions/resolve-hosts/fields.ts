/** resolve-hosts: the core's fields by this action's input names. */
import { CLIENT_FIELDS, type FieldNames, HOST_FIELDS } from '../shared/fields.js'

export const FIELDS: FieldNames = { ...CLIENT_FIELDS, ...HOST_FIELDS }
