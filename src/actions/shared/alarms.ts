/**
 * `alarms`, `alarms-insufficient-data` and `bake-time` (rollout and deploy): the CloudWatch
 * alarms that gate the rollout, and the wait after the canary and after the last host.
 */
import type { AlarmSettings } from '../../alarms/types.js'
import { InputError } from '../../errors.js'
import type { Inputs } from './inputs.js'

/** CloudWatch alarm names: 1 to 255 characters, no control characters (spaces and commas allowed). */
const ALARM_NAME = /^[^\p{Cc}]{1,255}$/u

export interface AlarmInputs {
  alarms?: AlarmSettings
  bakeTimeMs?: number
}

export function readAlarmInputs(inputs: Inputs): AlarmInputs {
  const names = parseAlarmNames(inputs.nameOf('alarms'), inputs.text('alarms'))
  const insufficientData = inputs.oneOf('alarms-insufficient-data', ['ok', 'fail'] as const, 'ok')
  const bakeTimeMs = inputs.duration('bake-time', '0', { minMs: 0, maxMs: 86_400_000 })
  return {
    ...(names.length ? { alarms: { names, insufficientData } } : {}),
    ...(bakeTimeMs ? { bakeTimeMs } : {})
  }
}

/**
 * One name a line, or a JSON array of names: an alarm name may hold spaces and commas, so
 * neither separates. Duplicates are dropped, order kept.
 */
export function parseAlarmNames(input: string, raw: string): string[] {
  const v = raw.trim()
  if (v === '') return []
  let names: unknown = v.split('\n').map((s) => s.trim())
  if (v.startsWith('[')) {
    try {
      names = JSON.parse(v)
    } catch {
      throw new InputError(
        input,
        `${JSON.stringify(v)} is not valid JSON. Expected a JSON array of alarm names, or one name a line.`
      )
    }
  }
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string'))
    throw new InputError(input, `${JSON.stringify(v)} is not a JSON array of strings.`)
  const list = (names as string[]).filter((n) => n !== '')
  const bad = list.find((n) => !ALARM_NAME.test(n))
  if (bad !== undefined)
    throw new InputError(
      input,
      `${JSON.stringify(bad)} is not a CloudWatch alarm name. Expected 1 to 255 characters without control characters.`
    )
  return [...new Set(list)]
}
