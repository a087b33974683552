/**
 * The artifact on the runner: a tarball as it is, or a directory packed reproducibly, checked
 * here by hashing twice, and read back with the real GNU tar the hosts use.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { discardArtifact, prepareArtifact } from '../../src/release/artifact.js'
import { FIXED_MTIME } from '../../src/release/tar.js'

let base: string
let out: string
let n = 0
const fresh = (): string => {
  const dir = join(base, `d${(n += 1)}`)
  mkdirSync(dir)
  return dir
}

/** A small app: nested files, an executable, a long path, an in-tree symlink. */
function app(dir: string): string {
  mkdirSync(join(dir, 'bin'))
  mkdirSync(join(dir, 'public', 'assets'), { recursive: true })
  writeFileSync(join(dir, 'README'), 'hello\n')
  writeFileSync(join(dir, 'bin', 'server'), '#!/bin/sh\necho up\n')
  chmodSync(join(dir, 'bin', 'server'), 0o700)
  writeFileSync(join(dir, 'public', 'assets', 'app.js'), 'x'.repeat(70000))
  const long = join(dir, 'a'.repeat(60), 'b'.repeat(60))
  mkdirSync(long, { recursive: true })
  writeFileSync(join(long, 'c'.repeat(40)), 'deep\n')
  symlinkSync('../README', join(dir, 'public', 'readme'))
  return dir
}

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'release-artifact-'))
  out = join(base, 'out')
  mkdirSync(out)
})
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe('prepareArtifact: a directory', () => {
  it('packs the same content to the same bytes, whatever the mtimes, modes or creation order', async () => {
    const first = await prepareArtifact(app(fresh()), { tempDirectory: out })
    const other = fresh()
    writeFileSync(join(other, 'zzz-created-first'), '')
    rmSync(join(other, 'zzz-created-first'))
    app(other)
    chmodSync(join(other, 'README'), 0o600)
    utimesSync(join(other, 'README'), 1e9, 1e9)
    const second = await prepareArtifact(other, { tempDirectory: out })
    expect(second.sha256).toBe(first.sha256)
    expect(second.size).toBe(first.size)
    expect(readFileSync(second.path).equals(readFileSync(first.path))).toBe(true)
    const bytes = readFileSync(first.path)
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(first.sha256)
    expect(bytes.length).toBe(first.size)
    expect([...bytes.subarray(4, 10)]).toEqual([0, 0, 0, 0, 2, 255]) // no mtime; OS unknown
    expect(first.packed).toBe(true)
  })

  it('gives another hash when one byte of one file changes', async () => {
    const a = await prepareArtifact(app(fresh()), { tempDirectory: out })
    const dir = app(fresh())
    writeFileSync(join(dir, 'README'), 'hellO\n')
    const b = await prepareArtifact(dir, { tempDirectory: out })
    expect(b.sha256).not.toBe(a.sha256)
  })

  it('unpacks with GNU tar to the same tree: names, contents, link, modes, owner 0, fixed mtime', async () => {
    const source = app(fresh())
    const artifact = await prepareArtifact(source, { tempDirectory: out })
    const listing = execFileSync('tar', ['-tvzf', artifact.path, '--numeric-owner'], {
      encoding: 'utf8'
    })
    expect(listing).toContain('-rwxr-xr-x 0/0              18 1980-01-01 00:00 bin/server')
    expect(listing).toContain('-rw-r--r-- 0/0               6 1980-01-01 00:00 README')
    expect(listing).toContain(
      'lrwxrwxrwx 0/0               0 1980-01-01 00:00 public/readme -> ../README'
    )
    const names = listing
      .trim()
      .split('\n')
      .map((line) => line.split(' ').pop())
    expect(names.slice(0, 4)).toEqual([
      'README',
      `${'a'.repeat(60)}/`,
      `${'a'.repeat(60)}/${'b'.repeat(60)}/`,
      expect.stringContaining('ccc')
    ])
    const target = fresh()
    execFileSync('tar', ['-xzf', artifact.path, '-C', target])
    const deep = join('a'.repeat(60), 'b'.repeat(60), 'c'.repeat(40))
    expect(readFileSync(join(target, deep), 'utf8')).toBe('deep\n')
    expect(readFileSync(join(target, 'public', 'readme'), 'utf8')).toBe('hello\n')
    expect(readFileSync(join(target, 'public/assets/app.js'), 'utf8')).toBe('x'.repeat(70000))
    expect(FIXED_MTIME).toBe(Date.UTC(1980, 0, 1) / 1000)
    await discardArtifact(artifact)
    expect(existsSync(artifact.path)).toBe(false)
  })

  it('refuses an empty directory, and one holding only empty directories', async () => {
    const empty = fresh()
    await expect(prepareArtifact(empty)).rejects.toThrow(
      `Setting "artifact": the directory ${JSON.stringify(empty)} is empty. Build the release into it before this step.`
    )
    mkdirSync(join(empty, 'sub'))
    await expect(prepareArtifact(empty)).rejects.toThrow('holds no files, only empty directories')
  })

  it.each([
    ['an absolute symlink', '/etc/passwd'],
    ['a symlink climbing out', '../../outside'],
    ['a symlink to the parent of the directory', '../..']
  ])('refuses %s, naming it', async (_label, target) => {
    const dir = app(fresh())
    symlinkSync(target, join(dir, 'public', 'link'))
    await expect(prepareArtifact(dir)).rejects.toThrow(
      `Setting "artifact": the symlink ${JSON.stringify(join(dir, 'public', 'link'))} points to ${JSON.stringify(target)}, outside the directory. Expected links relative to a path inside it.`
    )
  })

  it('refuses a fifo', async () => {
    const dir = app(fresh())
    execFileSync('mkfifo', [join(dir, 'pipe')])
    await expect(prepareArtifact(dir)).rejects.toThrow(
      `Setting "artifact": ${JSON.stringify(join(dir, 'pipe'))} is neither a file, a directory nor a symlink; only those are packed.`
    )
  })
})

describe('prepareArtifact: a file', () => {
  it('takes a .tar.gz or .tgz as it is, hashed, and never deletes it', async () => {
    const dir = fresh()
    const file = join(dir, 'app.tgz')
    execFileSync('tar', ['-czf', file, '-C', app(fresh()), '.'])
    const artifact = await prepareArtifact(file)
    const bytes = readFileSync(file)
    expect(artifact).toEqual({
      path: file,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      size: bytes.length,
      packed: false
    })
    await discardArtifact(artifact)
    expect(existsSync(file)).toBe(true)
  })

  it('refuses another file type, a fake tarball and a missing path, naming artifact', async () => {
    const dir = fresh()
    writeFileSync(join(dir, 'app.zip'), 'PK')
    writeFileSync(join(dir, 'app.tar.gz'), 'not gzip')
    await expect(prepareArtifact(join(dir, 'app.zip'))).rejects.toThrow(
      `Setting "artifact": ${JSON.stringify(join(dir, 'app.zip'))} is neither a directory nor a .tar.gz/.tgz file. Expected a directory to pack or a gzipped tarball built by an earlier step.`
    )
    await expect(prepareArtifact(join(dir, 'app.tar.gz'))).rejects.toThrow(
      `Setting "artifact": ${JSON.stringify(join(dir, 'app.tar.gz'))} is named like a gzipped tarball but is not gzip data.`
    )
    await expect(prepareArtifact(join(dir, 'nope'))).rejects.toThrow(
      `Setting "artifact": ${JSON.stringify(join(dir, 'nope'))} does not exist on the runner.`
    )
  })
})
