/**
 * The release artifact on the runner: the `artifact` input, a `.tar.gz`/`.tgz` file used as it
 * is, or a directory packed reproducibly (tar.ts) and gzipped without a timestamp, so a re-run of
 * the same content has the same SHA-256, hence the same S3 key and nothing to upload.
 *
 * The gzip bytes also depend on the zlib inside Node: the same content packed by another Node
 * release may differ, which costs one more upload, never a wrong release (hosts check the hash).
 */
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { lstat, open, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { Readable, Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { constants, createGzip } from 'node:zlib'
import { SettingError } from '../errors.js'
import { listEntries, tarStream } from './tar.js'

export interface Artifact {
  /** The `.tar.gz` to upload: the input file, or the one packed from the input directory. */
  readonly path: string
  /** Lowercase hex SHA-256 of the file's bytes. */
  readonly sha256: string
  readonly size: number
  /** True when packed from a directory (the file is then ours to delete: see discardArtifact). */
  readonly packed: boolean
}

export interface ArtifactOptions {
  /** Where a packed directory's archive goes (the adapter passes RUNNER_TEMP); os.tmpdir() else. */
  tempDirectory?: string
}

const ARCHIVE = /\.(tar\.gz|tgz)$/i
/** gzip's OS byte (RFC 1952): 255 = unknown, the same whatever platform zlib was built for. */
const GZIP_OS_UNKNOWN = 255
const GZIP_OS_OFFSET = 9

/** The artifact for `input` (a path on the runner), hashed; a directory is packed first. */
export async function prepareArtifact(
  input: string,
  options: ArtifactOptions = {}
): Promise<Artifact> {
  const stat = await lstat(input).catch(() => {
    throw new SettingError('artifact', `${JSON.stringify(input)} does not exist on the runner.`)
  })
  if (stat.isDirectory()) return packDirectory(input, options.tempDirectory ?? os.tmpdir())
  if (!stat.isFile() || !ARCHIVE.test(input)) {
    throw new SettingError(
      'artifact',
      `${JSON.stringify(input)} is neither a directory nor a .tar.gz/.tgz file. Expected a directory to pack or a gzipped tarball built by an earlier step.`
    )
  }
  await checkGzip(input)
  const { sha256, size } = await hashFile(input)
  return { path: input, sha256, size, packed: false }
}

/** Removes a packed archive once uploaded; a file the workflow gave is left alone. */
export async function discardArtifact(artifact: Artifact): Promise<void> {
  if (artifact.packed) await rm(artifact.path, { force: true })
}

async function checkGzip(file: string): Promise<void> {
  const handle = await open(file, 'r')
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(2), 0, 2, 0)
    if (bytesRead < 2 || buffer[0] !== 0x1f || buffer[1] !== 0x8b) {
      throw new SettingError(
        'artifact',
        `${JSON.stringify(file)} is named like a gzipped tarball but is not gzip data.`
      )
    }
  } finally {
    await handle.close()
  }
}

export async function hashFile(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { sha256: hash.digest('hex'), size }
}

async function packDirectory(directory: string, tempDirectory: string): Promise<Artifact> {
  const entries = await listEntries(directory)
  if (!entries.some((entry) => entry.type !== 'directory')) {
    const empty = (await readdir(directory)).length === 0
    throw new SettingError(
      'artifact',
      `the directory ${JSON.stringify(directory)} ${empty ? 'is empty' : 'holds no files, only empty directories'}. Build the release into it before this step.`
    )
  }
  const file = path.join(tempDirectory, `ebs-autoscale-${randomBytes(6).toString('hex')}.tar.gz`)
  const hash = createHash('sha256')
  let size = 0
  let offset = 0
  // The OS byte is set by hand (zlib writes its build platform's); mtime is 0 as zlib leaves it.
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      if (offset <= GZIP_OS_OFFSET && offset + chunk.length > GZIP_OS_OFFSET) {
        chunk[GZIP_OS_OFFSET - offset] = GZIP_OS_UNKNOWN
      }
      offset += chunk.length
      hash.update(chunk)
      size += chunk.length
      done(null, chunk)
    }
  })
  try {
    const gzip = createGzip({ level: constants.Z_BEST_COMPRESSION })
    await pipeline(Readable.from(tarStream(entries)), gzip, hashing, createWriteStream(file))
  } catch (err) {
    await rm(file, { force: true })
    throw err
  }
  return { path: file, sha256: hash.digest('hex'), size, packed: true }
}
