/**
 * The shell steps of a release on a host, in the order host-script.ts puts them. Every value
 * from outside is single-quoted (shellQuote); release ids are validated (release-id.ts) and the
 * one read back from the host (`previous`) is checked again in the script.
 *
 * The layout on the code volume, as Capistrano made it:
 *   <mount-point>/releases/<id>/            one directory per release, `.ebs-autoscale-release`
 *                                           inside holding its artifact's SHA-256 once complete
 *   <mount-point>/current -> releases/<id>  relative, so it holds wherever the volume is mounted
 *   <mount-point>/.previous-release         the id `current` named before the last switch
 * Downloads and unpacking happen beside the releases (`releases/.tmp-*`, `releases/.unpack-*`),
 * on the same volume, so the final move is a rename and a full disk fails before anything moves.
 */
import { shellQuote } from '../shell.js'
import type { ArtifactSource } from './store.js'

export const MARKER = '.ebs-autoscale-release'
export const PREVIOUS_FILE = '.previous-release'
export const LINE_PREFIX = 'ebs-autoscale-release:'
export const DEFAULT_KEEP_RELEASES = 5

/** Exit codes of the release steps (sysexits.h), so a failure says which step it was. */
export const EXIT = {
  checksum: 65, // EX_DATAERR: the bytes are not the artifact's
  missing: 66, // EX_NOINPUT: no such release on the host and nowhere to fetch it from
  download: 69, // EX_UNAVAILABLE
  unpack: 74 // EX_IOERR: a full disk, a damaged archive
} as const

/** Variables, helpers and the exit trap: a failure removes what this run made, never `current`. */
export function preamble(mountPoint: string, id: string): string[] {
  return [
    'set -e',
    'if [ -n "${BASH_VERSION:-}" ]; then set -o pipefail; fi',
    `ebs_release_mp=${shellQuote(mountPoint)}`,
    'ebs_release_root="$ebs_release_mp/releases"',
    `ebs_release_prevfile="$ebs_release_mp/${PREVIOUS_FILE}"`,
    `ebs_release_id=${shellQuote(id)}`,
    'ebs_release_stage=prepare ebs_release_switched=no ebs_release_reused=no',
    'ebs_release_prev= ebs_release_prev_file= ebs_release_made= ebs_release_tmp= ebs_release_unpack=',
    `ebs_release_line() { printf '%s %s\\n' ${shellQuote(LINE_PREFIX)} "$1"; printf '%s %s\\n' ${shellQuote(LINE_PREFIX)} "$1" >&2; }`,
    `ebs_release_fail() { printf 'ebs-autoscale: release %s: %s\\n' "$ebs_release_id" "$2" >&2; exit "$1"; }`,
    'ebs_release_current() { ebs_release_t=$(readlink "$ebs_release_mp/current" 2>/dev/null) || return 0; printf \'%s\\n\' "${ebs_release_t##*/}"; }',
    'if [ -n "${BASH_VERSION:-}" ] && [ -x "${BASH:-}" ]; then ebs_release_sh=$BASH; else ebs_release_sh=/bin/sh; fi',
    ...exitTrap(),
    'if [ ! -d "$ebs_release_mp" ]; then ebs_release_fail 1 "the mount point $ebs_release_mp is not a directory: is the code volume mounted?"; fi',
    'if [ -e "$ebs_release_mp/current" ] && [ ! -L "$ebs_release_mp/current" ]; then',
    '  ebs_release_fail 1 "$ebs_release_mp/current exists and is not a symlink; move it away once (the releases layout manages it)"',
    'fi',
    'mkdir -p "$ebs_release_root"'
  ]
}

function exitTrap(): string[] {
  return [
    'ebs_release_cleanup() {',
    '  ebs_release_rc=$?',
    '  trap - EXIT',
    '  if [ -n "$ebs_release_tmp" ]; then rm -f -- "$ebs_release_tmp"; fi',
    '  if [ -n "$ebs_release_unpack" ]; then rm -rf -- "$ebs_release_unpack"; fi',
    '  rm -f -- "$ebs_release_mp/current.tmp-$$" "$ebs_release_prevfile.tmp-$$" 2>/dev/null || :',
    '  if [ "$ebs_release_rc" -ne 0 ]; then',
    '    if [ -n "$ebs_release_made" ]; then rm -rf -- "$ebs_release_made"; fi',
    '    ebs_release_line "failed=$ebs_release_stage id=$ebs_release_id current=$(ebs_release_current) exit=$ebs_release_rc"',
    '  fi',
    '  exit "$ebs_release_rc"',
    '}',
    'trap ebs_release_cleanup EXIT',
    "trap 'exit 143' TERM",
    "trap 'exit 130' INT"
  ]
}

/** `previous`, read from the host and checked as a path component before anything uses it. */
export function resolvePrevious(): string[] {
  return [
    'ebs_release_id=$(cat "$ebs_release_prevfile" 2>/dev/null) || ebs_release_id=',
    'case $ebs_release_id in',
    `  '') ebs_release_id=previous; ebs_release_fail ${EXIT.missing} "no previous release is recorded on this host ($ebs_release_prevfile)" ;;`,
    `  .* | *[!A-Za-z0-9._-]* | *..*) ebs_release_fail ${EXIT.missing} "$ebs_release_prevfile does not hold a release id" ;;`,
    'esac'
  ]
}

/**
 * Sets ebs_release_path and whether the release is already complete here with these bytes
 * (reused: no download, no commands). A directory without the marker is a failed attempt's
 * leftover and is made again; one with another artifact's hash is refused by name.
 */
export function checkExisting(sha256: string | undefined): string[] {
  const mismatch = `releases/$ebs_release_id holds another artifact (SHA-256 $ebs_release_have, not ${sha256 ?? ''}): one id must name one artifact`
  return [
    'ebs_release_path="$ebs_release_root/$ebs_release_id"',
    `if [ -f "$ebs_release_path/${MARKER}" ]; then`,
    `  ebs_release_have=$(cat "$ebs_release_path/${MARKER}")`,
    ...(sha256
      ? [
          `  if [ "$ebs_release_have" != ${shellQuote(sha256)} ]; then ebs_release_fail ${EXIT.checksum} "${mismatch}"; fi`
        ]
      : []),
    '  ebs_release_reused=yes',
    'elif [ -e "$ebs_release_path" ] || [ -L "$ebs_release_path" ]; then',
    '  if [ "$(ebs_release_current)" = "$ebs_release_id" ]; then ebs_release_fail 1 "releases/$ebs_release_id is current but incomplete (no marker); deploy another release"; fi',
    '  rm -rf -- "$ebs_release_path"',
    'fi',
    'export EBS_AUTOSCALE_RELEASE_DIR="$ebs_release_path"'
  ]
}

/** The one line that brings the artifact onto the volume: curl (wget) for a URL, the AWS CLI for s3://. */
function fetchLine(source: ArtifactSource): string[] {
  if (source.kind === 's3') {
    return [
      `if ! command -v aws >/dev/null 2>&1; then ebs_release_fail ${EXIT.download} "instance-role mode needs the AWS CLI (aws) on the host"; fi`,
      `aws s3 cp --only-show-errors --region ${shellQuote(source.region)} ${shellQuote(source.uri)} "$ebs_release_tmp" || ebs_release_fail ${EXIT.download} ${shellQuote(`the download of ${source.uri} with the instance role failed`)}`
    ]
  }
  const url = shellQuote(source.url)
  // The URL is a credential until it expires: it is never printed.
  return [
    'if command -v curl >/dev/null 2>&1; then',
    `  curl -fsS --retry 3 --retry-connrefused --connect-timeout 10 -o "$ebs_release_tmp" ${url} || ebs_release_fail ${EXIT.download} "the download failed (curl exit $?)"`,
    'elif command -v wget >/dev/null 2>&1; then',
    `  wget -q -O "$ebs_release_tmp" ${url} || ebs_release_fail ${EXIT.download} "the download failed (wget exit $?)"`,
    `else ebs_release_fail ${EXIT.download} "the host has neither curl nor wget to download the artifact with"; fi`
  ]
}

/** Download, verify and unpack beside the releases, then rename into releases/<id>. */
export function fetchAndUnpack(sha256: string, source: ArtifactSource, owner?: string): string[] {
  const sum =
    'if command -v sha256sum >/dev/null 2>&1; then ebs_release_sum=$(sha256sum "$ebs_release_tmp"); else ebs_release_sum=$(shasum -a 256 "$ebs_release_tmp"); fi'
  return [
    'ebs_release_stage=download',
    'ebs_release_tmp="$ebs_release_root/.tmp-$ebs_release_id-$$"',
    ...fetchLine(source),
    'ebs_release_stage=checksum',
    sum,
    'ebs_release_sum=${ebs_release_sum%% *}',
    `if [ "$ebs_release_sum" != ${shellQuote(sha256)} ]; then ebs_release_fail ${EXIT.checksum} ${shellQuote(`the artifact's SHA-256 is `)}"$ebs_release_sum"${shellQuote(`, not ${sha256}: the download is damaged or incomplete`)}; fi`,
    'ebs_release_stage=unpack',
    'ebs_release_unpack="$ebs_release_root/.unpack-$ebs_release_id-$$"',
    'mkdir -- "$ebs_release_unpack"',
    'if ! tar -xzf "$ebs_release_tmp" --no-same-owner -C "$ebs_release_unpack"; then',
    '  ebs_release_free=$(df -Pk "$ebs_release_mp" 2>/dev/null | awk \'NR == 2 { print $4 }\') || :',
    `  ebs_release_fail ${EXIT.unpack} "unpacking the artifact into $ebs_release_root failed (\${ebs_release_free:-?} KiB free there)"`,
    'fi',
    'rm -f -- "$ebs_release_tmp"; ebs_release_tmp=',
    ...(owner ? [`chown -R ${shellQuote(owner)}: "$ebs_release_unpack"`] : []),
    'mv -- "$ebs_release_unpack" "$ebs_release_path"',
    'ebs_release_made=$ebs_release_path ebs_release_unpack='
  ]
}

/** The release is complete: the marker, written last, makes it reusable; failures no longer remove it. */
export function markComplete(sha256: string): string[] {
  return [
    `printf '%s\\n' ${shellQuote(sha256)} >"$ebs_release_path/${MARKER}"`,
    'ebs_release_made='
  ]
}
