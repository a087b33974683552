/**
 * What a step fails with when an adapter's reading throws: runAction's text, the core's fields
 * named by the action's inputs (its table in src/actions/<name>/fields.ts).
 */
import { failureText, type FieldNames } from '../../src/actions/shared/fields.js'

export function failureOf(read: () => unknown, fields: FieldNames): string {
  try {
    read()
  } catch (err) {
    return failureText(err, fields)
  }
  throw new Error('expected a failure, and nothing was thrown')
}
