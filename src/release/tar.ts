/**
 * A reproducible tar stream of a directory: the same content gives the same bytes on any runner,
 * so the artifact's hash (its S3 key and its release id suffix) names the content, not the
 * checkout. Entries are sorted bytewise, every entry has the same mtime, uid/gid 0 and no user
 * names, and modes are normalised the way git keeps them (0755 for directories and executables,
 * 0644 otherwise), since a checkout's umask is no part of the code.
 *
 * A minimal ustar writer (POSIX.1-1988, with pax `x` records for names over 100 bytes and sizes
 * over 8 GiB) rather than a dependency: GNU tar, bsdtar and busybox tar on the hosts all read it.
 * Only regular files, directories and symlinks that stay inside the directory are packed;
 * anything else is refused with the field `artifact` named.
 */
import { createReadStream } from 'node:fs'
import { lstat, readdir, readlink } from 'node:fs/promises'
import path from 'node:path'
import { SettingError } from '../errors.js'

/** 1980-01-01T00:00:00Z, the earliest time ZIP can hold: the usual fixed time of reproducible builds. */
export const FIXED_MTIME = 315532800

const BLOCK = 512
const MAX_OCTAL_SIZE = 0o77777777777

export interface TarEntry {
  /** The path inside the archive, `/`-separated, directories ending with `/`. */
  readonly name: string
  readonly type: 'file' | 'directory' | 'symlink'
  /** The file on disk (files only). */
  readonly source?: string
  readonly size: number
  readonly mode: number
  readonly linkTarget?: string
}

const compareBytes = (a: string, b: string): number =>
  Buffer.compare(Buffer.from(a), Buffer.from(b))

/**
 * Every entry under `root`, parents before children, siblings in bytewise order. Refuses fifos,
 * sockets and devices, and symlinks that are absolute or climb out of `root`.
 */
export async function listEntries(root: string, prefix = ''): Promise<TarEntry[]> {
  const names = (await readdir(path.join(root, prefix))).sort(compareBytes)
  const entries: TarEntry[] = []
  for (const name of names) {
    const rel = prefix ? `${prefix}/${name}` : name
    const full = path.join(root, rel)
    const stat = await lstat(full)
    if (stat.isDirectory()) {
      entries.push({ name: `${rel}/`, type: 'directory', size: 0, mode: 0o755 })
      entries.push(...(await listEntries(root, rel)))
    } else if (stat.isFile()) {
      const mode = stat.mode & 0o111 ? 0o755 : 0o644
      entries.push({ name: rel, type: 'file', source: full, size: stat.size, mode })
    } else if (stat.isSymbolicLink()) {
      const linkTarget = await readlink(full)
      checkLink(root, rel, linkTarget)
      entries.push({ name: rel, type: 'symlink', size: 0, mode: 0o777, linkTarget })
    } else {
      throw new SettingError(
        'artifact',
        `${JSON.stringify(full)} is neither a file, a directory nor a symlink; only those are packed.`
      )
    }
  }
  return entries
}

/** A symlink must name something inside the release, relatively, or the release is not self-contained. */
function checkLink(root: string, rel: string, target: string): void {
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), target))
  if (path.posix.isAbsolute(target) || resolved === '..' || resolved.startsWith('../')) {
    throw new SettingError(
      'artifact',
      `the symlink ${JSON.stringify(path.join(root, rel))} points to ${JSON.stringify(target)}, outside the directory. Expected links relative to a path inside it.`
    )
  }
}

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0'
}

/** A pax extended header record: `<length> <key>=<value>\n`, the length counting itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let length = Buffer.byteLength(body) + 1
  while (String(length).length + Buffer.byteLength(body) !== length) length += 1
  return `${length}${body}`
}

function header(entry: TarEntry, type: string, name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK)
  block.write(name, 0, 100, 'utf8')
  block.write(octal(entry.mode, 8), 100, 'ascii')
  block.write(octal(0, 8), 108, 'ascii')
  block.write(octal(0, 8), 116, 'ascii')
  block.write(octal(Math.min(size, MAX_OCTAL_SIZE), 12), 124, 'ascii')
  block.write(octal(FIXED_MTIME, 12), 136, 'ascii')
  block.write(' '.repeat(8), 148, 'ascii')
  block.write(type, 156, 'ascii')
  block.write(entry.linkTarget ?? '', 157, 100, 'utf8')
  block.write('ustar\u000000', 257, 'ascii')
  let sum = 0
  for (const byte of block) sum += byte
  block.write(octal(sum, 7) + ' ', 148, 'ascii')
  return block
}

const padding = (size: number): Buffer => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK)

/** The header blocks of one entry: a pax record first where ustar's fields are too small. */
export function entryHeaders(entry: TarEntry): Buffer[] {
  const type = { file: '0', directory: '5', symlink: '2' }[entry.type]
  const records = [
    Buffer.byteLength(entry.name) > 100 ? paxRecord('path', entry.name) : '',
    Buffer.byteLength(entry.linkTarget ?? '') > 100 ? paxRecord('linkpath', entry.linkTarget!) : '',
    entry.size > MAX_OCTAL_SIZE ? paxRecord('size', String(entry.size)) : ''
  ].join('')
  const blocks: Buffer[] = []
  if (records) {
    const pax = Buffer.from(records)
    const paxName = `PaxHeaders/${path.posix.basename(entry.name).slice(0, 80)}`
    blocks.push(
      header({ ...entry, linkTarget: '' }, 'x', paxName, pax.length),
      pax,
      padding(pax.length)
    )
  }
  blocks.push(header(entry, type, entry.name, entry.size))
  return blocks
}

/** The archive, block by block: each file is read as it is written, so memory stays flat. */
export async function* tarStream(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    yield* entryHeaders(entry)
    if (entry.type !== 'file' || !entry.source) continue
    let read = 0
    for await (const chunk of createReadStream(entry.source)) {
      read += (chunk as Buffer).length
      if (read > entry.size) break
      yield chunk as Buffer
    }
    if (read !== entry.size) {
      throw new SettingError(
        'artifact',
        `${JSON.stringify(entry.source)} changed while it was being packed (${entry.size} bytes listed, ${read} read). Pack a directory nothing writes to.`
      )
    }
    yield padding(entry.size)
  }
  yield Buffer.alloc(BLOCK * 2)
}
