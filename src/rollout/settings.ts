/**
 * The rules a rollout's settings obey, whoever reads them: typed values in, a SettingError
 * naming the field out. Checked before any AWS call.
 */
import { formatDuration } from '../duration.js'
import { setting, SettingError } from '../errors.js'

/** The deploy script: something to run on every host. */
export function checkCommands(commands: string): void {
  if (commands.trim() === '') {
    throw new SettingError(
      'commands',
      'is empty. Expected the deploy script to run on every host (multi-line).'
    )
  }
}

/** The SSM document; a Windows one is refused: the script is POSIX shell for Linux. */
export function checkDocument(document: string): string {
  if (/powershell|windows/i.test(document)) {
    throw new SettingError(
      'document',
      `${JSON.stringify(document)} is a Windows document, and the script this action sends is POSIX shell for Linux hosts. Expected AWS-RunShellScript, or a Linux document that takes commands and executionTimeout like it.`
    )
  }
  return document
}

/** The whole rollout's deadline leaves room for at least one host's timeout. */
export function checkDeadline(deadlineMs: number, hostTimeoutMs: number): void {
  if (deadlineMs < hostTimeoutMs) {
    throw new SettingError(
      'deadline',
      `${JSON.stringify(formatDuration(deadlineMs))} is shorter than ${setting('hostTimeout')} (${formatDuration(hostTimeoutMs)}). Expected a deadline for the whole rollout at least as long as one host's timeout.`
    )
  }
}

/** A template to roll back to is only read for a rollback: it needs the rollback's commands. */
export function checkRollbackSource(launchTemplate: string | undefined, rollback: boolean): void {
  if (launchTemplate && !rollback) {
    throw new SettingError(
      'launchTemplate',
      `${JSON.stringify(launchTemplate)} is set without ${setting('rollbackCommands')}. Expected ${setting('rollbackCommands')} with it: the template only tells a rollback where it returns to.`
    )
  }
}
