/**
 * Which script each host of a group is sent: the run-once step gets run-once, every other host
 * the commands, except the primary when the caller gave it a last script of its own (the
 * deploy's, ending with the flush before the snapshot): that replaces the primary's last
 * script (run-once, else its commands), so it goes in a send apart, first.
 */
import type { HostScript } from './host-script.js'
import type { Wave } from './types.js'

export interface Scripts {
  commands: HostScript
  runOnce?: HostScript
  primaryLast?: HostScript
}

/** One command: these hosts, this script. */
export interface Send {
  instanceIds: readonly string[]
  script: HostScript
}

export function sendsFor(
  wave: Wave,
  ids: readonly string[],
  scripts: Scripts,
  primary: string
): Send[] {
  if (wave.kind === 'run-once')
    return [{ instanceIds: ids, script: scripts.primaryLast ?? scripts.runOnce! }]
  if (!scripts.primaryLast || scripts.runOnce || !ids.includes(primary))
    return [{ instanceIds: ids, script: scripts.commands }]
  const rest = ids.filter((id) => id !== primary)
  return [
    { instanceIds: [primary], script: scripts.primaryLast },
    ...(rest.length ? [{ instanceIds: rest, script: scripts.commands }] : [])
  ]
}
