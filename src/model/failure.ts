/** What failed and in which phase: the one failure shape every flow returns. */
export interface Failure {
  /** The phase that failed: resolve, rollout, snapshot, wait, publish, refresh, catch-up, retention... */
  phase: string
  message: string
}
