/**
 * The one input parser. Every value arrives as a string (the runner's INPUT_* variables);
 * every read either returns a typed value or throws an InputError that names the input,
 * quotes the bad value and says what is expected (parse.ts, env-input.ts). Nothing falls back
 * to a default silently. Rules of the domain (a freeze guard, a tag budget) are the core's
 * settings checks, called by the readers after parsing.
 */
import { InputError } from '../../errors.js'
import type { CountOrPercent, InstanceState, TagFilter } from '../../model/fleet.js'
import { parseEnv } from './env-input.js'
import {
  parseBoolean,
  parseCountOrPercent,
  parseDuration,
  parseGroupNames,
  parseInteger,
  parseList,
  parseOneOf,
  parseStates,
  parseTags,
  parseUserName
} from './parse.js'

/** Reads one raw input; '' when unset. The adapters pass `core.getInput`. */
export type InputGetter = (name: string) => string

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
