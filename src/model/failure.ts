/**
 * What went wrong after something was already done, returned rather than thrown so the caller
 * can still report what was done: the phase it happened in (`wait`, `publish`, `refresh`,
 * `retention`...) and the message for the user.
 */
export interface Failure {
  phase: string
  message: string
}
