/**
 * What a host's output tells beyond its lines. SSM returns only the first 24,000 characters of
 * stdout and 8,000 of stderr (2,500 of both in listings), so a failure printed at the end of a
 * long output is lost. The script (script.ts) keeps the whole output in a log on the host and,
 * when the commands fail, prints its last lines on stderr between two marker lines; this module
 * writes those markers and reads them back.
 */

/** Lines, and bytes at most, the script prints from the end of the log when the commands fail. */
export const TAIL_LINES = 40
export const TAIL_BYTES = 7_000

/** The first line of the block; `path` is the log's path on the host (a shell word in script.ts). */
export const tailHeader = (path: string): string =>
  `----- last ${TAIL_LINES} lines of output (full log: ${path}) -----`

/** The last line of the block; `exitCode` is the commands' exit code (a shell word in script.ts). */
export const tailFooter = (exitCode: string): string =>
  `----- end of output (exit code ${exitCode}) -----`

const HEADER = /^----- last \d+ lines of output \(full log: (.+)\) -----$/m
const FOOTER = /\n?----- end of output \(exit code (\d+)\) -----/g

/** How much of each stream SSM returns: GetCommandInvocation, or a listing (both streams). */
export interface OutputLimits {
  stdout: number
  stderr: number
  /** Both streams together, where SSM cuts them as one (ListCommandInvocations' Output). */
  total?: number
}
export const INVOCATION_LIMITS: OutputLimits = { stdout: 24_000, stderr: 8_000 }
export const LISTING_LIMITS: OutputLimits = { stdout: 2_500, stderr: 2_500, total: 2_500 }

export interface HostOutput {
  /** The last lines of the commands' output (stdout and stderr together), when the script printed them. */
  tail?: string
  /** Where the whole output is on the host, when the script said. */
  logPath?: string
  /** The commands' exit code, as the block's last line gives it. */
  exitCode?: number
  /** The block's last line is missing: SSM cut the block itself. */
  tailCut: boolean
  /** SSM returned only part of a stream (its length is at SSM's limit). */
  stdoutCut: boolean
  stderrCut: boolean
}

/**
 * Reads a host's output as SSM returned it: the block of last lines the script printed on stderr
 * (the first header there is the script's: the commands' own stderr goes to stdout), and whether
 * SSM cut either stream.
 */
export function readHostOutput(
  stdout: string,
  stderr: string,
  limits: OutputLimits = INVOCATION_LIMITS
): HostOutput {
  const totalCut = limits.total !== undefined && stdout.length + stderr.length >= limits.total
  const result: HostOutput = {
    tailCut: false,
    stdoutCut: totalCut || stdout.length >= limits.stdout,
    stderrCut: totalCut || stderr.length >= limits.stderr
  }
  const header = HEADER.exec(stderr)
  if (!header) return result
  result.logPath = header[1]!
  const rest = stderr.slice(header.index + header[0].length + 1)
  // The last footer is the script's: the lines before it are the commands' and may hold anything.
  const footer = [...rest.matchAll(FOOTER)].pop()
  result.tail = footer ? rest.slice(0, footer.index) : rest.replace(/\n$/, '')
  if (footer) result.exitCode = Number(footer[1])
  result.tailCut = !footer
  return result
}

/** The stderr the script printed before its block of last lines (all of it when there is none). */
export const stderrBeforeTail = (stderr: string): string => {
  const header = HEADER.exec(stderr)
  return header ? stderr.slice(0, header.index) : stderr
}

/** One line for the user when SSM's copy of the output is not all of it, or undefined. */
export function outputCutNote(output: HostOutput): string | undefined {
  const cut = [
    ...(output.stdoutCut ? ['stdout'] : []),
    ...(output.stderrCut || output.tailCut ? ['stderr'] : [])
  ]
  if (!cut.length) return undefined
  const where = output.logPath
    ? `the full log is at ${output.logPath} on the host`
    : 'the full output is on the host, in /var/log/ebs-autoscale/'
  return `Output was cut: SSM returned only the start of ${cut.join(' and ')}; ${where}.`
}
