/**
 * The scripts a host runs for a release (bash or POSIX sh, as AWS-RunShellScript runs them):
 *
 * deploy:   reuse releases/<id> if complete with these bytes; else download beside it, check the
 *           SHA-256, unpack, rename into place and run `commands` inside it (script.ts's runner:
 *           log, run-as, the tail of the output on failure) with EBS_AUTOSCALE_RELEASE_DIR set;
 *           then switch `current` atomically, run `activate`, keep `keep-releases`.
 * rollback: switch `current` to a release the host holds (or `previous`), fetching it again
 *           where an artifact location is given, then run `activate`.
 *
 * A failure before the switch leaves `current` as it was and removes what the run made. A
 * failing `activate` switches back to the release it replaced and activates that again. The
 * last line, on stdout and on stderr (SSM keeps only the first 24,000 characters of stdout), is
 * `ebs-autoscale-release: id=<id> previous=<id|-> switched=yes|no reused=yes|no`, or
 * `ebs-autoscale-release: failed=<stage> id=<id> current=<id> exit=<code>`: see parseReleaseLine.
 */
import { buildScript, flushStep } from '../rollout/script.js'
import { shellQuote } from '../shell.js'
import {
  checkExisting,
  DEFAULT_KEEP_RELEASES,
  EXIT,
  fetchAndUnpack,
  LINE_PREFIX,
  MARKER,
  markComplete,
  preamble,
  resolvePrevious
} from './host-steps.js'
import { type RollbackTarget, validateReleaseId } from './release-id.js'
import type { ArtifactSource } from './store.js'

/** The artifact a host fetches: its hash (checked on the host) and where from (store.source()). */
export interface HostArtifact {
  readonly sha256: string
  readonly source: ArtifactSource
}

interface CommonOptions {
  /** The code volume's mount point, e.g. /srv/app. */
  mountPoint: string
  /** Run in the release, as `run-as`, logged (script.ts); a reused release skips them. */
  commands?: string
  env?: ReadonlyArray<readonly [string, string]>
  /** Validated user name (Inputs): the commands run as it and the unpacked files are its own. */
  runAs?: string
  /** Run as root in `current` after the switch (e.g. `systemctl reload app`). */
  activate?: string
  logName?: string
  logDirectory?: string
  /** Flush the volume before the last line (the primary's, before its snapshot). */
  flush?: boolean
}

export interface ReleaseScriptOptions extends CommonOptions {
  releaseId: string
  artifact: HostArtifact
  /** Complete releases kept (default 5); current and previous are never removed. */
  keepReleases?: number
}

export interface RollbackScriptOptions extends CommonOptions {
  target: RollbackTarget
  /** Where to fetch the release again if the host lacks it (a named release only). */
  artifact?: HostArtifact
  /**
   * Only a host whose `current` is this release switches (a failed deploy's switch back): one
   * that never switched to it keeps what it serves and reports `switched=no`.
   */
  onlyFrom?: string
}

const mountPointOf = (mountPoint: string): string => mountPoint.replace(/(.)\/+$/, '$1')

export function buildReleaseScript(options: ReleaseScriptOptions): string[] {
  const id = validateReleaseId(options.releaseId, 'release-id')
  const keep = options.keepReleases ?? DEFAULT_KEEP_RELEASES
  if (!Number.isInteger(keep) || keep < 1)
    throw new RangeError(`keepReleases must be 1 or more, not ${keep}`)
  const mountPoint = mountPointOf(options.mountPoint)
  return [
    ...preamble(mountPoint, id),
    ...exports(options.env),
    ...checkExisting(options.artifact.sha256),
    'if [ "$ebs_release_reused" = no ]; then',
    ...build(options, options.artifact, `${mountPoint}/releases/${id}`),
    'fi',
    ...finish(options, mountPoint, keep)
  ]
}

export function buildRollbackScript(options: RollbackScriptOptions): string[] {
  const target = options.target
  const named = target.kind === 'release'
  const id = target.kind === 'release' ? validateReleaseId(target.id) : 'previous'
  if (options.artifact && !named) {
    throw new TypeError('a rollback that may fetch its release names it: previous has no artifact')
  }
  const mountPoint = mountPointOf(options.mountPoint)
  const missing = `release $ebs_release_id is not on this host (no complete $ebs_release_path) and no artifact was given to fetch it from`
  return [
    ...preamble(mountPoint, id),
    ...(options.onlyFrom ? unlessCurrent(validateReleaseId(options.onlyFrom)) : []),
    ...(named ? [] : resolvePrevious()),
    ...exports(options.env),
    ...checkExisting(options.artifact?.sha256),
    'if [ "$ebs_release_reused" = no ]; then',
    ...(options.artifact
      ? build(options, options.artifact, `${mountPoint}/releases/${id}`)
      : ['ebs_release_stage=find', `ebs_release_fail ${EXIT.missing} "${missing}"`]),
    'fi',
    ...finish(options, mountPoint)
  ]
}

/** A host not on `id` stays as it is: it reports what it serves and stops there. */
const unlessCurrent = (id: string): string[] => [
  `if [ "$(ebs_release_current)" != ${shellQuote(id)} ]; then`,
  '  ebs_release_id=$(ebs_release_current); ebs_release_stage=done',
  '  ebs_release_line "id=${ebs_release_id:--} previous=- switched=no reused=yes"',
  '  exit 0',
  'fi'
]

const exports = (env: CommonOptions['env']): string[] =>
  (env ?? []).map(([key, value]) => `export ${key}=${shellQuote(value)}`)

/** Fetch, unpack, the commands, the marker: a release made here. */
function build(options: CommonOptions, artifact: HostArtifact, path: string): string[] {
  const commands = options.commands?.trim()
  return [
    ...fetchAndUnpack(artifact.sha256, artifact.source, options.runAs),
    ...(commands
      ? [
          'ebs_release_stage=commands',
          ...buildScript({
            commands: options.commands ?? '',
            workingDirectory: path,
            ...(options.runAs ? { runAs: options.runAs } : {}),
            ...(options.logName ? { logName: options.logName } : {}),
            ...(options.logDirectory ? { logDirectory: options.logDirectory } : {})
          })
        ]
      : []),
    ...markComplete(artifact.sha256)
  ]
}

/** Switch, activate, prune (deploys only), flush, the last line. */
function finish(options: CommonOptions, mountPoint: string, keep?: number): string[] {
  return [
    ...switchStep(),
    ...activateStep(options.activate),
    ...(keep ? pruneStep(keep) : []),
    ...(options.flush ? flushStep(mountPoint) : []),
    'ebs_release_stage=done',
    'ebs_release_line "id=$ebs_release_id previous=${ebs_release_previous:--} switched=$ebs_release_switched reused=$ebs_release_reused"'
  ]
}

/**
 * `current` is replaced by rename(2) of a new symlink over it: readers see the old target or the
 * new one, never nothing. The link is relative (releases/<id>), so it holds wherever the volume
 * is mounted. The release replaced becomes `previous` (a re-run of the current one changes nothing).
 */
function switchStep(): string[] {
  return [
    'ebs_release_stage=switch',
    'ebs_release_switch_to() {',
    '  ln -sfn "releases/$1" "$ebs_release_mp/current.tmp-$$"',
    '  mv -Tf "$ebs_release_mp/current.tmp-$$" "$ebs_release_mp/current"',
    '}',
    'ebs_release_set_previous() {',
    '  if [ -z "$1" ]; then rm -f -- "$ebs_release_prevfile"; return 0; fi',
    `  printf '%s\\n' "$1" >"$ebs_release_prevfile.tmp-$$"`,
    '  mv -f -- "$ebs_release_prevfile.tmp-$$" "$ebs_release_prevfile"',
    '}',
    'ebs_release_prev=$(ebs_release_current)',
    'ebs_release_prev_file=$(cat "$ebs_release_prevfile" 2>/dev/null) || ebs_release_prev_file=',
    `touch "$ebs_release_path/${MARKER}"`,
    'if [ "$ebs_release_prev" != "$ebs_release_id" ]; then',
    '  ebs_release_switch_to "$ebs_release_id"',
    '  ebs_release_switched=yes',
    '  if [ -n "$ebs_release_prev" ]; then ebs_release_set_previous "$ebs_release_prev"; fi',
    'fi',
    'ebs_release_previous=$(cat "$ebs_release_prevfile" 2>/dev/null) || ebs_release_previous='
  ]
}

/** `activate` in `current`; if it fails, back to the release replaced, activated again. */
function activateStep(activate: string | undefined): string[] {
  if (!activate?.trim()) return []
  const run =
    '(cd "$ebs_release_mp/current" && exec "$ebs_release_sh" -c "$ebs_release_activate" ebs-autoscale) </dev/null'
  return [
    'ebs_release_stage=activate',
    `ebs_release_activate=${shellQuote(`set -e\n${activate.replace(/\r\n/g, '\n')}`)}`,
    'ebs_release_arc=0',
    `${run} || ebs_release_arc=$?`,
    'if [ "$ebs_release_arc" -ne 0 ]; then',
    '  if [ "$ebs_release_switched" = yes ] && [ -n "$ebs_release_prev" ]; then',
    '    ebs_release_switch_to "$ebs_release_prev"',
    '    ebs_release_set_previous "$ebs_release_prev_file"',
    `    printf 'ebs-autoscale: release %s: activate failed (exit %s); current is back on %s, activated again\\n' "$ebs_release_id" "$ebs_release_arc" "$ebs_release_prev" >&2`,
    `    ${run} || :`,
    '  fi',
    '  exit "$ebs_release_arc"',
    'fi'
  ]
}

/** The newest `keep` complete releases stay (by marker time, touched at each switch), and always current and previous. */
function pruneStep(keep: number): string[] {
  return [
    'ebs_release_stage=prune',
    `ls -1t "$ebs_release_root"/*/${MARKER} 2>/dev/null | {`,
    '  ebs_release_n=0',
    '  while IFS= read -r ebs_release_m; do',
    '    ebs_release_d=${ebs_release_m%/*}; ebs_release_r=${ebs_release_d##*/}; ebs_release_n=$((ebs_release_n + 1))',
    `    if [ "$ebs_release_n" -le ${keep} ] || [ "$ebs_release_r" = "$ebs_release_id" ] || [ "$ebs_release_r" = "$ebs_release_previous" ]; then continue; fi`,
    `    rm -rf -- "$ebs_release_d" && printf 'ebs-autoscale: removed release %s (keep-releases: ${keep})\\n' "$ebs_release_r"`,
    '  done',
    '} || :',
    "find \"$ebs_release_root\" -mindepth 1 -maxdepth 1 \\( -name '.tmp-*' -o -name '.unpack-*' \\) -mmin +60 -exec rm -rf -- {} + 2>/dev/null || :"
  ]
}

/** What the last release line of a host's output says (stdout or stderr). */
export interface ReleaseLine {
  readonly id: string
  readonly previous?: string
  readonly switched?: boolean
  readonly reused?: boolean
  /** The step that failed (download, checksum, unpack, commands, switch, activate, find...). */
  readonly failed?: string
  /** What `current` names after a failure. */
  readonly current?: string
  readonly exitCode?: number
}

export function parseReleaseLine(output: string): ReleaseLine | undefined {
  const lines = output.split('\n').filter((line) => line.startsWith(`${LINE_PREFIX} `))
  const last = lines[lines.length - 1]
  if (!last) return undefined
  const fields = new Map(
    last
      .slice(LINE_PREFIX.length + 1)
      .split(' ')
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)] as const)
  )
  const value = (key: string): string | undefined => {
    const v = fields.get(key)
    return v === undefined || v === '' || v === '-' ? undefined : v
  }
  const flag = (key: string): boolean | undefined =>
    fields.has(key) ? fields.get(key) === 'yes' : undefined
  const exit = value('exit')
  return {
    id: value('id') ?? '',
    ...(value('previous') ? { previous: value('previous') } : {}),
    ...(fields.has('switched') ? { switched: flag('switched') } : {}),
    ...(fields.has('reused') ? { reused: flag('reused') } : {}),
    ...(value('failed') ? { failed: value('failed') } : {}),
    ...(value('current') ? { current: value('current') } : {}),
    ...(exit ? { exitCode: Number(exit) } : {})
  }
}
