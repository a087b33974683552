/**
 * The script sent to each host. Values from `env` are exported with single quotes, so
 * nothing in a value (quotes, $(), backticks, newlines) is ever executed by the shell: values
 * from untrusted events belong there, never inside `commands`.
 */
import { shellQuote } from '../shell.js'

export interface ScriptOptions {
  commands: string
  env?: ReadonlyArray<readonly [string, string]>
  workingDirectory?: string
}

/**
 * Lines for AWS-RunShellScript's `commands` parameter (SSM joins them with newlines).
 * Like a GitHub `run:` step, the script stops at the first failing command (`set -e`, and
 * `pipefail` where the shell is bash).
 */
export function buildScript(options: ScriptOptions): string[] {
  const lines = ['set -e', 'if [ -n "${BASH_VERSION:-}" ]; then set -o pipefail; fi']
  for (const [key, value] of options.env ?? []) lines.push(`export ${key}=${shellQuote(value)}`)
  if (options.workingDirectory) lines.push(`cd -- ${shellQuote(options.workingDirectory)}`)
  return [...lines, ...options.commands.split(/\r?\n/)].join('\n').split('\n')
}
