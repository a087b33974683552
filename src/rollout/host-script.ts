/**
 * A host's script: fixed, or made when its command is sent. A release's script carries a
 * presigned URL with a short lifetime, so it is made afresh for each SendCommand, and it is never
 * shown: the URL is a credential until it expires. Logs and dry runs show `shown` instead.
 */
export type HostScript = readonly string[] | DeferredScript

export interface DeferredScript {
  /** What the log and a dry run show: the script with what must not be printed left out. */
  readonly shown: readonly string[]
  /** The script as sent, made at send time. */
  make(): Promise<readonly string[]>
}

const isDeferred = (script: HostScript): script is DeferredScript => !Array.isArray(script)

/** The lines to send now. */
export const scriptToSend = async (script: HostScript): Promise<readonly string[]> =>
  isDeferred(script) ? script.make() : script

/** The lines a person may see. */
export const scriptShown = (script: HostScript): readonly string[] =>
  isDeferred(script) ? script.shown : script

/** The script with `lines` after it (the primary's flush before its snapshot). */
export function appendLines(script: HostScript, lines: readonly string[]): HostScript {
  if (!isDeferred(script)) return [...script, ...lines]
  return {
    shown: [...script.shown, ...lines],
    make: async () => [...(await script.make()), ...lines]
  }
}
