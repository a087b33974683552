/**
 * The `env` input: variables for the host's scripts in GITHUB_ENV's syntax, each value kept
 * byte for byte; names that change the shell or the loader are refused.
 */
import { InputError } from '../../errors.js'

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
