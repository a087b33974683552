/**
 * The one input parser. Every value arrives as a string (the runner's INPUT_* variables);
 * every parse either returns a typed value or throws an InputError that names the input,
 * quotes the bad value and says what is expected. Nothing falls back to a default silently.
 */
import { formatDuration } from '../../duration.js'
import { InputError } from '../../errors.js'
import {
  type CountOrPercent,
  INSTANCE_STATES,
  type InstanceState,
  type TagFilter
} from '../../model/fleet.js'

/** Reads one raw input; '' when unset. The adapters pass `core.getInput`. */
export type InputGetter = (name: string) => string

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

/** A shell variable name, as POSIX defines one. */
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Names `env` refuses, and why. The host's shell and its dynamic loader read these to decide what
 * runs and how, so a value for one (say an injected `LD_PRELOAD=` line) would change the deploy
 * itself, not just the application. The script sets HOME, USER and LOGNAME itself.
 */
const REFUSED: ReadonlyArray<[RegExp, string]> = [
  [
    /^(PATH|ENV|IFS|CDPATH|GLOBIGNORE|EXECIGNORE|SHELLOPTS|BASHOPTS|POSIXLY_CORRECT|PS4|PROMPT_COMMAND|BASH|BASH_.*)$/,
    'changes where the shell finds commands or how it reads and runs them'
  ],
  [/^(LD_.*|GCONV_PATH)$/, 'changes what the dynamic loader loads into every program'],
  [/^(UID|EUID|PPID)$/, 'is read-only in bash, so exporting it would fail on the host'],
  [/^(HOME|USER|LOGNAME)$/, 'is set by the script from the user the commands run as (run-as)'],
  [/^EBS_AUTOSCALE_/i, 'is reserved for the script itself']
]

/** Why `env` refuses a name, or undefined when it takes it. */
export function refusedEnvName(name: string): string | undefined {
  return REFUSED.find(([pattern]) => pattern.test(name))?.[1]
}

/** One `env` variable and the line (1-based) that sets it. */
interface EnvLine {
  name: string
  value: string
  line: number
}

function envName(input: string, text: string, line: number, sign: string): string {
  const name = text.trim()
  // The name is not quoted back: on a garbled line it may be part of a secret value.
  if (!SHELL_NAME.test(name)) {
    throw new InputError(
      input,
      `line ${line}: the name before "${sign}" is not a shell variable name. Expected letters, digits and _, not starting with a digit.`
    )
  }
  return name
}

/** The lines of `env` in GITHUB_ENV's syntax: `NAME=value`, or `NAME<<DELIMITER`, lines, `DELIMITER`. */
function envLines(input: string, raw: string): EnvLine[] {
  const lines = raw.split('\n')
  const out: EnvLine[] = []
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!
    const line = i + 1
    if (text.trim() === '') continue
    const eq = text.indexOf('=')
    const heredoc = text.indexOf('<<')
    if (eq !== -1 && (heredoc === -1 || eq < heredoc)) {
      out.push({
        name: envName(input, text.slice(0, eq), line, '='),
        value: text.slice(eq + 1),
        line
      })
      continue
    }
    if (heredoc === -1) {
      throw new InputError(
        input,
        `line ${line} is neither NAME=value nor NAME<<DELIMITER. Expected one variable per line, or NAME<<DELIMITER, the value's lines, then a line holding only DELIMITER.`
      )
    }
    const name = envName(input, text.slice(0, heredoc), line, '<<')
    const delimiter = text.slice(heredoc + 2)
    if (delimiter.trim() === '') {
      throw new InputError(
        input,
        `line ${line}: ${name}<< has no delimiter. Expected NAME<<DELIMITER, the value's lines, then a line holding only DELIMITER.`
      )
    }
    const end = lines.indexOf(delimiter, i + 1)
    if (end === -1) {
      throw new InputError(
        input,
        `line ${line}: the value of ${name} is never closed. Expected a later line holding only its delimiter, exactly as written after "<<" (spaces count).`
      )
    }
    out.push({ name, value: lines.slice(i + 1, end).join('\n'), line })
    i = end
  }
  return out
}

/**
 * The `env` input: variables for the scripts, each value kept byte for byte (newlines, quotes,
 * `$(...)`); names that change the shell or the loader are refused. Errors name the line, never
 * the value, which may be a secret.
 */
export function parseEnv(input: string, raw: string): Array<[string, string]> {
  const first = new Map<string, number>()
  return envLines(input, raw).map(({ name, value, line }) => {
    const why = refusedEnvName(name)
    if (why) {
      throw new InputError(
        input,
        `line ${line} sets ${name}, which ${why}: it is refused. Expected your application's own variables; set ${name} inside commands if a command really needs it.`
      )
    }
    const earlier = first.get(name)
    if (earlier !== undefined) {
      throw new InputError(input, `line ${line} sets ${name} again (line ${earlier} set it first).`)
    }
    first.set(name, line)
    return [name, value]
  })
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

  groupNames(name: string): string[] {
    return parseGroupNames(this.nameOf(name), this.read(name))
  }

  tags(name: string): TagFilter {
    return parseTags(this.nameOf(name), this.read(name))
  }

  /** Variables for the host's scripts (see parseEnv), read untrimmed. */
  env(name: string): Array<[string, string]> {
    return parseEnv(this.nameOf(name), this.read(name))
  }

  /** A Linux user name, or undefined when unset. */
  user(name: string): string | undefined {
    const v = this.raw(name)
    return v === '' ? undefined : parseUserName(this.nameOf(name), v)
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name)
    return v === '' ? fallback : parseOneOf(this.nameOf(name), v, allowed)
  }

  states(name: string, fallback: string): InstanceState[] {
    return parseStates(this.nameOf(name), this.raw(name) || fallback)
  }
}
