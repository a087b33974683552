/**
 * A promise as one that never rejects, for a `Promise.race` over tasks that run on their own:
 * none of them rejects unobserved while another wins, and the error reaches whoever reads it.
 */

/** `promise` as one that never rejects: its value, or its error rethrown when read. */
export function settled<T>(promise: Promise<T>): Promise<() => T> {
  return promise.then(
    (value) => () => value,
    (err: unknown) => () => {
      throw err
    }
  )
}
