/**
 * The input parser's functions: a string in, a typed value out, or an InputError that names
 * the input, quotes the bad value and says what is expected. Nothing falls back to a default
 * silently. (`env` has its own module, env-input.ts.)
 */
import { formatDuration } from '../../duration.js'
import { InputError } from '../../errors.js'
import {
  type CountOrPercent,
  INSTANCE_STATES,
  type InstanceState,
  type TagFilter
} from '../../model/fleet.js'

const quote = (raw: string): string => JSON.stringify(raw)

export function parseBoolean(input: string, raw: string): boolean {
  const v = raw.trim()
  if (['true', 'True', 'TRUE'].includes(v)) return true
  if (['false', 'False', 'FALSE'].includes(v)) return false
  throw new InputError(input, `${quote(raw)} is not a boolean. Expected true or false.`)
}

export function parseInteger(
  input: string,
  raw: string,
  bounds: { min?: number; max?: number } = {}
): number {
  const v = raw.trim()
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = bounds
  const range = bounds.max === undefined ? `at least ${min}` : `between ${min} and ${max}`
  if (!/^[+-]?\d+$/.test(v)) {
    throw new InputError(
      input,
      `${quote(raw)} is not a whole number. Expected a whole number ${range}.`
    )
  }
  const n = Number(v)
  if (n < min || n > max) {
    throw new InputError(input, `${quote(raw)} is out of range. Expected a whole number ${range}.`)
  }
  return n
}

/** `10` (hosts) or `25%` (of the fleet). */
export function parseCountOrPercent(input: string, raw: string, minCount = 0): CountOrPercent {
  const v = raw.trim()
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v)
  if (pct) {
    const value = Number(pct[1])
    if (value > 100 || (minCount > 0 && value === 0)) {
      throw new InputError(
        input,
        `${quote(raw)} is out of range. Expected a percentage ${minCount > 0 ? 'above 0' : 'from 0'} up to 100%.`
      )
    }
    return { kind: 'percent', value }
  }
  if (/^\d+$/.test(v)) {
    const value = Number(v)
    if (value < minCount) {
      throw new InputError(input, `${quote(raw)} is too small. Expected at least ${minCount}.`)
    }
    return { kind: 'count', value }
  }
  throw new InputError(
    input,
    `${quote(raw)} is neither a number of hosts nor a percentage. Expected e.g. "10" or "25%".`
  )
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** `90s`, `10m`, `1h30m`, `500ms`; a bare number means seconds. Returns milliseconds. */
export function parseDuration(
  input: string,
  raw: string,
  bounds: { minMs?: number; maxMs?: number } = {}
): number {
  const v = raw.trim()
  let ms: number
  if (/^\d+$/.test(v)) {
    ms = Number(v) * 1000
  } else if (/^(\d+(ms|s|m|h))+$/.test(v)) {
    ms = 0
    for (const [, n, unit] of v.matchAll(/(\d+)(ms|s|m|h)/g)) ms += Number(n) * UNIT_MS[unit!]!
  } else {
    throw new InputError(
      input,
      `${quote(raw)} is not a duration. Expected a number with a unit, e.g. "90s", "10m" or "1h30m".`
    )
  }
  const { minMs = 0, maxMs = Number.MAX_SAFE_INTEGER } = bounds
  if (ms < minMs || ms > maxMs) {
    throw new InputError(
      input,
      `${quote(raw)} is out of range. Expected between ${formatDuration(minMs)} and ${formatDuration(maxMs)}.`
    )
  }
  return ms
}

/**
 * A list: a JSON array of strings (so one action's JSON output feeds the next as is), or
 * items separated by whitespace and/or commas. Duplicates are dropped, order kept.
 */
export function parseList(input: string, raw: string): string[] {
  const v = raw.trim()
  if (v === '') return []
  let items: string[]
  if (v.startsWith('[')) {
    let parsed: unknown
    try {
      parsed = JSON.parse(v)
    } catch {
      throw new InputError(
        input,
        `${quote(raw)} is not valid JSON. Expected a JSON array of strings or a plain list.`
      )
    }
    if (!Array.isArray(parsed) || parsed.some((x) => typeof x !== 'string')) {
      throw new InputError(input, `${quote(raw)} is not a JSON array of strings.`)
    }
    items = (parsed as string[]).map((s) => s.trim()).filter((s) => s !== '')
  } else {
    items = v.split(/[\s,]+/).filter((s) => s !== '')
  }
  return [...new Set(items)]
}

/** Auto Scaling group names: 1 to 255 characters, no control characters (and, here, no comma). */
const GROUP_NAME = /^[^\p{Cc},]{1,255}$/u

/**
 * Auto Scaling group names, one per line or comma separated (a name may hold spaces, so
 * spaces do not separate). Duplicates are dropped, order kept: the first group's launch
 * template is the deploy's first publish target.
 */
export function parseGroupNames(input: string, raw: string): string[] {
  const names = raw
    .split(/[\r\n,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
  for (const name of names) {
    if (!GROUP_NAME.test(name)) {
      throw new InputError(
        input,
        `${quote(name)} is not an Auto Scaling group name. Expected names of up to 255 characters, one per line or comma separated, e.g. "web-asg, worker-asg".`
      )
    }
  }
  return [...new Set(names)]
}

/**
 * Tags as `Key=Value`, one per line or comma separated. A comma-separated item without `=`
 * adds a value to the key before it (`Role=app,web`); repeated keys add values too.
 * Values may use EC2 filter wildcards (`*`, `?`).
 */
export function parseTags(input: string, raw: string): TagFilter {
  const tags = new Map<string, string[]>()
  for (const line of raw.split(/\r?\n/)) {
    let current: string | undefined
    for (const part of line.split(',')) {
      const item = part.trim()
      if (item === '') continue
      const eq = item.indexOf('=')
      if (eq === -1) {
        if (current === undefined) {
          throw new InputError(
            input,
            `${quote(item)} has no "=". Expected Key=Value pairs, one per line or comma separated, e.g. "Role=app".`
          )
        }
        addValue(tags, current, item)
        continue
      }
      const key = item.slice(0, eq).trim()
      const value = item.slice(eq + 1).trim()
      if (key === '') {
        throw new InputError(
          input,
          `${quote(item)} has an empty key. Expected Key=Value, e.g. "Role=app".`
        )
      }
      if (value === '') {
        throw new InputError(
          input,
          `${quote(item)} has an empty value. Expected Key=Value; use "${key}=*" to match any value.`
        )
      }
      current = key
      addValue(tags, key, value)
    }
  }
  return tags
}

function addValue(tags: Map<string, string[]>, key: string, value: string): void {
  const values = tags.get(key) ?? []
  if (!values.includes(value)) values.push(value)
  tags.set(key, values)
}

/** A Linux user name as run-as takes it: letters, digits, `_`, `.` and `-`; at most 32 characters. */
const USER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/

export function parseUserName(input: string, raw: string): string {
  const v = raw.trim()
  if (USER_NAME.test(v)) return v
  throw new InputError(
    input,
    `${quote(raw)} is not a user name. Expected a Linux user name such as "deploy" or "ec2-user": letters, digits, _, . and -, not starting with a digit, . or -, at most 32 characters.`
  )
}

export function parseOneOf<T extends string>(input: string, raw: string, allowed: readonly T[]): T {
  const v = raw.trim()
  if ((allowed as readonly string[]).includes(v)) return v as T
  throw new InputError(input, `${quote(raw)} is not one of: ${allowed.join(', ')}.`)
}

export function parseStates(input: string, raw: string): InstanceState[] {
  const states = parseList(input, raw)
  if (states.length === 0)
    throw new InputError(input, `is empty. Expected one or more of: ${INSTANCE_STATES.join(', ')}.`)
  return states.map((s) => parseOneOf(input, s, INSTANCE_STATES))
}
