/**
 * The one input parser. Every value arrives as a string (the runner's INPUT_* variables);
 * every parse either returns a typed value or throws an InputError that names the input,
 * quotes the bad value and says what is expected. Nothing falls back to a default silently.
 */
import { formatDuration } from './duration.js'
import { InputError } from './errors.js'

/** Reads one raw input; '' when unset. The adapters pass `core.getInput`. */
export type InputGetter = (name: string) => string

/** Tag filter: key -> accepted values. Values of one key OR together; keys AND together. */
export type TagFilter = ReadonlyMap<string, readonly string[]>

/** A number of hosts, or a share of the fleet. */
export type CountOrPercent = { kind: 'count'; value: number } | { kind: 'percent'; value: number }

export const INSTANCE_STATES = [
  'pending',
  'running',
  'shutting-down',
  'terminated',
  'stopping',
  'stopped'
] as const
export type InstanceState = (typeof INSTANCE_STATES)[number]

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

/** Resolves a count or percentage against a fleet size (percentages round down). */
export function resolveCountOrPercent(v: CountOrPercent, fleetSize: number): number {
  return v.kind === 'count' ? v.value : Math.floor((v.value * fleetSize) / 100)
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

/** `KEY=VALUE` lines (one per line: values may hold commas, spaces and `=`). */
export function parseKeyValueLines(input: string, raw: string): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const seen = new Set<string>()
  for (const line of raw.split(/\r?\n/)) {
    if (line.trim() === '') continue
    const eq = line.indexOf('=')
    const key = eq === -1 ? '' : line.slice(0, eq).trim()
    if (eq === -1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new InputError(
        input,
        `${quote(line)} is not a KEY=VALUE line. Expected one per line, the key a shell variable name (letters, digits, _).`
      )
    }
    if (seen.has(key)) throw new InputError(input, `${quote(key)} is set twice.`)
    seen.add(key)
    out.push([key, line.slice(eq + 1)])
  }
  return out
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

/**
 * Typed access to the inputs of one action: `inputs.int('max-attempts', 5, { min: 1 })`.
 * An unset input takes the default; a set one must parse.
 */
export class Inputs {
  /**
   * @param names  inputs known to the user by another name: the deploy action reads the
   *               snapshot action's `tags` as `snapshot-tags`, and errors must say so.
   */
  constructor(
    private readonly get: InputGetter,
    private readonly names: Readonly<Record<string, string>> = {}
  ) {}

  /** The same inputs, some under other names. */
  renamed(names: Readonly<Record<string, string>>): Inputs {
    return new Inputs(this.get, { ...this.names, ...names })
  }

  /** The name the user sets an input by. */
  nameOf(name: string): string {
    return this.names[name] ?? name
  }

  private read(name: string): string {
    return this.get(this.nameOf(name))
  }

  raw(name: string): string {
    return this.read(name).trim()
  }

  string(name: string, fallback = ''): string {
    return this.raw(name) || fallback
  }

  optional(name: string): string | undefined {
    return this.raw(name) || undefined
  }

  required(name: string, expected: string): string {
    const v = this.raw(name)
    if (v === '') throw new InputError(this.nameOf(name), `is required. Expected ${expected}.`)
    return v
  }

  /** A multi-line value (a script), kept as written but for surrounding blank lines. */
  text(name: string): string {
    return this.read(name)
      .replace(/^\s*\n/, '')
      .trimEnd()
  }

  boolean(name: string, fallback: boolean): boolean {
    const v = this.raw(name)
    return v === '' ? fallback : parseBoolean(this.nameOf(name), v)
  }

  integer(name: string, fallback: number, bounds?: { min?: number; max?: number }): number {
    const v = this.raw(name)
    return v === '' ? fallback : parseInteger(this.nameOf(name), v, bounds)
  }

  duration(name: string, fallback: string, bounds?: { minMs?: number; maxMs?: number }): number {
    return parseDuration(this.nameOf(name), this.raw(name) || fallback, bounds)
  }

  countOrPercent(name: string, fallback: string, minCount = 0): CountOrPercent {
    return parseCountOrPercent(this.nameOf(name), this.raw(name) || fallback, minCount)
  }

  list(name: string): string[] {
    return parseList(this.nameOf(name), this.raw(name))
  }

  tags(name: string): TagFilter {
    return parseTags(this.nameOf(name), this.read(name))
  }

  keyValues(name: string): Array<[string, string]> {
    return parseKeyValueLines(this.nameOf(name), this.read(name))
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name)
    return v === '' ? fallback : parseOneOf(this.nameOf(name), v, allowed)
  }

  states(name: string, fallback: string): InstanceState[] {
    return parseStates(this.nameOf(name), this.raw(name) || fallback)
  }
}
