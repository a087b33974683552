/**
 * What the core may say while it works. The adapters back it with @actions/core (log groups,
 * annotations); tests record it. The core never imports @actions/core itself.
 */
export interface Annotation {
  title?: string
}

export interface Log {
  info(message: string): void
  warning(message: string, annotation?: Annotation): void
  error(message: string, annotation?: Annotation): void
  debug(message: string): void
  /** Collapsed in the runner's log. */
  group(title: string, lines: readonly string[]): void
}

export const silentLog: Log = {
  info: () => undefined,
  warning: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  group: () => undefined
}
