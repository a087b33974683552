/** SSM Run Command statuses: one definition, read by the rollout and by one-off host commands. */

/** A command (or one host's invocation) in one of these will not change any more. */
export const TERMINAL_COMMAND_STATUSES: ReadonlySet<string> = new Set([
  'Success',
  'Failed',
  'TimedOut',
  'Cancelled'
])
