/**
 * The script sent to each host: POSIX shell for Linux, which AWS-RunShellScript runs as root with
 * /bin/sh (dash on Ubuntu, bash on Amazon Linux). It
 * - stops at the first failing command, like a GitHub run step (`set -e`; `pipefail` under bash);
 * - sets HOME when SSM gives none (root's home);
 * - exports `env` single-quoted, so nothing in a value (quotes, $(), backticks, newlines) ever
 *   runs: values from untrusted events belong there, never inside the commands;
 * - runs the commands in a shell of their own, as `run-as` with its HOME, USER and LOGNAME when
 *   given, in `working-directory`, their stderr merged into stdout;
 * - keeps their whole output in a log on the host (root's only; the newest KEEP_LOGS are kept)
 *   and, when they fail, prints the log's last lines on stderr between marker lines (output.ts),
 *   so they fall within what SSM returns, then exits with the commands' own exit code.
 */
import { shellQuote } from '../shell.js'
import { appendLines, type HostScript } from './host-script.js'
import { TAIL_BYTES, TAIL_LINES, tailFooter, tailHeader } from './output.js'

export interface ScriptOptions {
  commands: string
  env?: ReadonlyArray<readonly [string, string]>
  workingDirectory?: string
  /** A user name, already validated (Inputs.user): it is written into the script unquoted. */
  runAs?: string
  /** Names this run's log: `<UTC time>-<logName>-<pid>.log`. */
  logName?: string
  /** Where the logs go on the host (tests point it elsewhere). */
  logDirectory?: string
  /** Ends with a flush (consistency: sync) once the commands succeeded: see flushStep. */
  flush?: { mountPoint?: string }
}

export const LOG_DIRECTORY = '/var/log/ebs-autoscale'
/** Logs kept on a host: one per deploy and script, so this bounds the disk they take in count. */
export const KEEP_LOGS = 20
/** The exit code when the run-as user does not exist on the host (EX_NOUSER, sysexits.h). */
export const NO_SUCH_USER = 67
/** The exit code when the host has neither runuser nor su to switch users with. */
export const NO_USER_SWITCH = 127

/** Lines for AWS-RunShellScript's `commands` parameter (SSM joins them with newlines). */
export function buildScript(options: ScriptOptions): string[] {
  return [
    'set -e',
    PIPEFAIL,
    'if [ -z "${HOME:-}" ]; then HOME=~root; case $HOME in /*) ;; *) HOME=/root ;; esac; export HOME; fi',
    ...(options.env ?? []).map(([key, value]) => `export ${key}=${shellQuote(value)}`),
    ...(options.runAs ? switchUser(options.runAs) : SAME_USER),
    ...openLog(options),
    ...runCommands(options),
    ...reportFailure(),
    ...(options.flush ? flushStep(options.flush.mountPoint) : [])
  ]
    .join('\n')
    .split('\n')
}

const PIPEFAIL = 'if [ -n "${BASH_VERSION:-}" ]; then set -o pipefail; fi'

/** The commands' own shell: the one running this script (bash stays bash), else /bin/sh. */
const SHELL_LINE =
  'if [ -n "${BASH_VERSION:-}" ] && [ -x "${BASH:-}" ]; then ebs_autoscale_sh=$BASH; else ebs_autoscale_sh=/bin/sh; fi'

const SAME_USER = [
  SHELL_LINE,
  'ebs_autoscale_commands() { "$ebs_autoscale_sh" -c "$1" ebs-autoscale; }'
]

/**
 * run-as: fail by name (exit 67) on a host without the user, then run the commands with runuser
 * (util-linux: root only, no password, no login shell needed, the environment kept, so the
 * exported values reach the commands without ever being in a command line) or su where runuser
 * is missing. sudo is not used: it resets the environment and depends on sudoers.
 */
function switchUser(user: string): string[] {
  const name = shellQuote(user)
  const missing = `ebs-autoscale: run-as: there is no user ${user} on this host`
  return [
    SHELL_LINE,
    `if ! id -u ${name} >/dev/null 2>&1; then printf '%s\\n' ${shellQuote(missing)} >&2; exit ${NO_SUCH_USER}; fi`,
    `ebs_autoscale_home=~${user}`,
    'ebs_autoscale_commands() {',
    '  if command -v runuser >/dev/null 2>&1; then',
    `    HOME=$ebs_autoscale_home USER=${name} LOGNAME=${name} runuser -u ${name} -- "$ebs_autoscale_sh" -c "$1" ebs-autoscale`,
    '  elif command -v su >/dev/null 2>&1; then',
    `    HOME=$ebs_autoscale_home USER=${name} LOGNAME=${name} su -s "$ebs_autoscale_sh" -c "$1" ${name} ebs-autoscale`,
    '  else',
    `    echo 'ebs-autoscale: run-as needs runuser or su on the host; neither was found' >&2; return ${NO_USER_SWITCH}`,
    '  fi',
    '}'
  ]
}

/** The log: in LOG_DIRECTORY (a fresh temporary directory where that cannot be written), 0600. */
function openLog(options: ScriptOptions): string[] {
  const name = (options.logName ?? 'commands').replace(/[^A-Za-z0-9._-]+/g, '-')
  return [
    `ebs_autoscale_logs=${shellQuote(options.logDirectory ?? LOG_DIRECTORY)}`,
    'mkdir -p "$ebs_autoscale_logs" 2>/dev/null && chmod 700 "$ebs_autoscale_logs" 2>/dev/null || ebs_autoscale_logs=$(mktemp -d)',
    `ebs_autoscale_log="$ebs_autoscale_logs/$(date -u +%Y%m%dT%H%M%SZ)-${name}-$$.log"`,
    '(umask 077 && : >"$ebs_autoscale_log")',
    `ls -1t "$ebs_autoscale_logs"/*.log 2>/dev/null | tail -n +${KEEP_LOGS + 1} | while IFS= read -r f; do rm -f -- "$f"; done || :`
  ]
}

/**
 * The commands, through tee into the log. Their exit code comes back on fd 4 (a pipeline's own
 * status would be tee's); fds 3 and 4 are closed for them, so a daemon they start cannot hold
 * the script open.
 */
function runCommands(options: ScriptOptions): string[] {
  const cd = options.workingDirectory ? `; cd -- ${shellQuote(options.workingDirectory)}` : ''
  const script = `set -e; ${PIPEFAIL}${cd}\n${options.commands.replace(/\r\n/g, '\n')}`
  return [
    `ebs_autoscale_script=${shellQuote(script)}`,
    'exec 3>&1',
    'ebs_autoscale_rc=$({ { ebs_autoscale_commands "$ebs_autoscale_script" </dev/null 2>&1 3>&- 4>&- && echo 0 >&4 || echo $? >&4; } | tee -a "$ebs_autoscale_log" >&3 3>&- 4>&-; } 4>&1) || :',
    'exec 3>&-'
  ]
}

/** On failure: the log's last lines on stderr, marked, then the commands' exit code. */
function reportFailure(): string[] {
  return [
    'case $ebs_autoscale_rc in "" | *[!0-9]*) ebs_autoscale_rc=1 ;; esac',
    'if [ "$ebs_autoscale_rc" -ne 0 ]; then',
    '  {',
    `    printf '%s\\n' "${tailHeader('$ebs_autoscale_log')}"`,
    `    tail -n ${TAIL_LINES} "$ebs_autoscale_log" | tail -c ${TAIL_BYTES}`,
    '    [ -z "$(tail -c 1 "$ebs_autoscale_log")" ] || echo',
    `    printf '%s\\n' "${tailFooter('$ebs_autoscale_rc')}"`,
    '  } >&2 || :',
    '  exit "$ebs_autoscale_rc"',
    'fi'
  ]
}

/**
 * The flush before a snapshot (consistency: sync), as the last step of the primary's own command:
 * it runs only when the commands succeeded (a failure exited above), so the snapshot can start
 * the moment the command ends, without another command through SSM. `sync -f` flushes the one
 * filesystem; `sync` (every filesystem) where that is refused.
 */
export function flushStep(mountPoint?: string): string[] {
  if (!mountPoint)
    return ['sync', "echo 'ebs-autoscale: flushed every filesystem for the snapshot'"]
  const mp = shellQuote(mountPoint)
  return [
    `sync -f ${mp} 2>/dev/null || sync`,
    `printf '%s\\n' ${shellQuote(`ebs-autoscale: flushed ${mountPoint} for the snapshot`)}`
  ]
}

/** A script built by buildScript, ending with the flush (the deploy's primary's last command). */
export const withFlush = (script: HostScript, mountPoint?: string): HostScript =>
  appendLines(script, flushStep(mountPoint))
