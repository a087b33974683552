/** Shell text built from values: every value single-quoted, so nothing in it ever runs. */

/** POSIX single-quoting: the only character to handle inside '...' is ' itself. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`
}
