/**
 * The release scripts run for real with bash in a temporary "code volume", downloading from a
 * local HTTP server that counts its hits and can cut a download off half-way. End states are
 * asserted: where `current` points, which releases exist, what the last line says.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync
} from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prepareArtifact } from '../../src/release/artifact.js'
import {
  buildReleaseScript,
  buildRollbackScript,
  parseReleaseLine,
  type HostArtifact
} from '../../src/release/host-script.js'

let base: string
let server: Server
let port: number
const files = new Map<string, Buffer>()
const hits = new Map<string, number>()
let truncate = false

interface Run {
  code: number
  stdout: string
  stderr: string
}

/** bash, asynchronously: the server answers from this same process. */
function run(lines: string[], env: Record<string, string> = {}, shell = 'bash'): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(shell, ['-c', lines.join('\n')], { env: { ...process.env, ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

let mp: string
let n = 0
/** A release: a directory with VERSION, packed, served at /<name>.tar.gz. */
async function release(version: string): Promise<HostArtifact> {
  const dir = join(base, `src-${version}-${(n += 1)}`)
  mkdirSync(join(dir, 'bin'), { recursive: true })
  writeFileSync(join(dir, 'VERSION'), `${version}\n`)
  writeFileSync(join(dir, 'bin', 'app'), '#!/bin/sh\n')
  const artifact = await prepareArtifact(dir, { tempDirectory: base })
  files.set(`/${artifact.sha256}.tar.gz`, readFileSync(artifact.path))
  const url = `http://127.0.0.1:${port}/${artifact.sha256}.tar.gz?X-Amz-Signature=s3cret`
  return { sha256: artifact.sha256, source: { kind: 'url', url } }
}
const hitsOf = (a: HostArtifact): number => hits.get(`/${a.sha256}.tar.gz`) ?? 0

const COMMANDS =
  'printf "%s %s\\n" "$PWD" "$EBS_AUTOSCALE_RELEASE_DIR" >built; echo x >>"$EBS_AUTOSCALE_RELEASE_DIR/../../builds"'
const ACTIVATE = 'echo "$(cat VERSION)" >>../../activated'

function deploy(id: string, artifact: HostArtifact, extra: object = {}): Promise<Run> {
  return run(
    buildReleaseScript({
      mountPoint: mp,
      releaseId: id,
      artifact,
      commands: COMMANDS,
      activate: ACTIVATE,
      logDirectory: join(base, 'logs'),
      ...extra
    })
  )
}

const current = (): string => readlinkSync(join(mp, 'current'))
const releases = (): string[] => readdirSync(join(mp, 'releases')).sort()
const lastLine = (r: Run): string => r.stdout.trim().split('\n').pop() ?? ''

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'release-host-'))
  server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0] ?? ''
    hits.set(path, (hits.get(path) ?? 0) + 1)
    const body = files.get(path)
    if (!body) return res.writeHead(404).end()
    res.writeHead(200, { 'Content-Length': body.length })
    if (truncate) return res.end(body.subarray(0, body.length >> 1), () => res.destroy())
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve))
  rmSync(base, { recursive: true, force: true })
})
beforeEach(() => {
  mp = join(base, `volume-${(n += 1)}`)
  mkdirSync(mp)
  truncate = false
  hits.clear()
})

describe('buildReleaseScript', () => {
  it('deploys onto an empty volume: unpacks, builds inside, switches, activates', async () => {
    const a = await release('one')
    const r = await deploy('aaaaaaa', a)
    expect(r.stderr).toBe('ebs-autoscale-release: id=aaaaaaa previous=- switched=yes reused=no\n')
    expect(r.code).toBe(0)
    expect(lastLine(r)).toBe('ebs-autoscale-release: id=aaaaaaa previous=- switched=yes reused=no')
    expect(current()).toBe('releases/aaaaaaa')
    const dir = join(mp, 'releases', 'aaaaaaa')
    expect(readFileSync(join(mp, 'current', 'VERSION'), 'utf8')).toBe('one\n')
    expect(readFileSync(join(dir, 'built'), 'utf8')).toBe(`${dir} ${dir}\n`)
    expect(readFileSync(join(dir, '.ebs-autoscale-release'), 'utf8')).toBe(`${a.sha256}\n`)
    expect(readFileSync(join(mp, 'activated'), 'utf8')).toBe('one\n')
    expect(releases()).toEqual(['aaaaaaa'])
    expect(r.stdout).not.toContain('s3cret') // the URL is a credential: never printed
  })

  it('switches current to a second release, keeps the first and records it as previous', async () => {
    await deploy('aaaaaaa', await release('one'))
    const r = await deploy('bbbbbbb', await release('two'))
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: id=bbbbbbb previous=aaaaaaa switched=yes reused=no'
    )
    expect(current()).toBe('releases/bbbbbbb')
    expect(releases()).toEqual(['aaaaaaa', 'bbbbbbb'])
    expect(readFileSync(join(mp, '.previous-release'), 'utf8')).toBe('aaaaaaa\n')
    expect(readFileSync(join(mp, 'activated'), 'utf8')).toBe('one\ntwo\n')
    expect(parseReleaseLine(r.stdout)).toEqual({
      id: 'bbbbbbb',
      previous: 'aaaaaaa',
      switched: true,
      reused: false
    })
  })

  it('reuses the same release on a re-run: no download, no build, previous kept', async () => {
    const a = await release('one')
    const b = await release('two')
    await deploy('aaaaaaa', a)
    await deploy('bbbbbbb', b)
    const r = await deploy('bbbbbbb', b)
    expect(r.code).toBe(0)
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: id=bbbbbbb previous=aaaaaaa switched=no reused=yes'
    )
    expect(hitsOf(b)).toBe(1)
    expect(readFileSync(join(mp, 'builds'), 'utf8')).toBe('x\nx\n')
    expect(current()).toBe('releases/bbbbbbb')
  })

  it('fails on a checksum mismatch: exit 65, current untouched, nothing left behind', async () => {
    await deploy('aaaaaaa', await release('one'))
    const two = await release('two')
    const r = await deploy('bbbbbbb', { ...two, sha256: 'f'.repeat(64) })
    expect(r.code).toBe(65)
    expect(r.stderr).toContain(
      `ebs-autoscale: release bbbbbbb: the artifact's SHA-256 is ${two.sha256}, not ${'f'.repeat(64)}: the download is damaged or incomplete`
    )
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: failed=checksum id=bbbbbbb current=aaaaaaa exit=65'
    )
    expect(current()).toBe('releases/aaaaaaa')
    expect(releases()).toEqual(['aaaaaaa'])
  })

  it('fails on a download cut off half-way: exit 69, current untouched, no temp file', async () => {
    await deploy('aaaaaaa', await release('one'))
    const two = await release('two')
    truncate = true
    const r = await deploy('bbbbbbb', two)
    expect(r.code).toBe(69)
    expect(r.stderr).toMatch(/ebs-autoscale: release bbbbbbb: the download failed \(curl exit 18\)/)
    expect(parseReleaseLine(r.stderr)).toEqual({
      id: 'bbbbbbb',
      failed: 'download',
      current: 'aaaaaaa',
      exitCode: 69
    })
    expect(current()).toBe('releases/aaaaaaa')
    expect(releases()).toEqual(['aaaaaaa'])
  })

  it('fails when a command fails: its exit code, the output tail, the new release removed', async () => {
    await deploy('aaaaaaa', await release('one'))
    const r = await deploy('bbbbbbb', await release('two'), { commands: 'echo building\nexit 3' })
    expect(r.code).toBe(3)
    expect(r.stderr).toContain('building\n----- end of output (exit code 3) -----')
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: failed=commands id=bbbbbbb current=aaaaaaa exit=3'
    )
    expect(current()).toBe('releases/aaaaaaa')
    expect(releases()).toEqual(['aaaaaaa'])
    expect(readFileSync(join(mp, 'activated'), 'utf8')).toBe('one\n')
  })

  it('fails on a full disk while unpacking: exit 74, current untouched, nothing left behind', async () => {
    await deploy('aaaaaaa', await release('one'))
    const bin = join(base, `fullbin-${n}`)
    mkdirSync(bin)
    writeFileSync(
      join(bin, 'tar'),
      '#!/bin/sh\nfor a; do last=$a; done\n: >"$last/half-written"\necho "tar: bin/app: Cannot write: No space left on device" >&2\nexit 2\n'
    )
    chmodSync(join(bin, 'tar'), 0o755)
    const lines = buildReleaseScript({
      mountPoint: mp,
      releaseId: 'bbbbbbb',
      artifact: await release('two')
    })
    const r = await run(lines, { PATH: `${bin}:${process.env['PATH'] ?? ''}` })
    expect(r.code).toBe(74)
    expect(r.stderr).toContain('tar: bin/app: Cannot write: No space left on device')
    expect(r.stderr).toMatch(
      /release bbbbbbb: unpacking the artifact into .*\/releases failed \(\d+ KiB free there\)/
    )
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: failed=unpack id=bbbbbbb current=aaaaaaa exit=74'
    )
    expect(current()).toBe('releases/aaaaaaa')
    expect(releases()).toEqual(['aaaaaaa'])
  })

  it('keeps keep-releases newest, never removing current or previous', async () => {
    await deploy('aaaaaaa', await release('one'))
    await deploy('bbbbbbb', await release('two'))
    await run(buildRollbackScript({ mountPoint: mp, target: { kind: 'release', id: 'aaaaaaa' } }))
    const r = await deploy('ccccccc', await release('three'), { keepReleases: 1 })
    expect(r.stdout).toContain('ebs-autoscale: removed release bbbbbbb (keep-releases: 1)')
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: id=ccccccc previous=aaaaaaa switched=yes reused=no'
    )
    expect(releases()).toEqual(['aaaaaaa', 'ccccccc'])
    const d = await deploy('ddddddd', await release('four'), { keepReleases: 2 })
    expect(d.code).toBe(0)
    expect(releases()).toEqual(['ccccccc', 'ddddddd'])
  })

  it('runs the same under /bin/sh (dash on Ubuntu)', async () => {
    const lines = (id: string, artifact: HostArtifact): string[] =>
      buildReleaseScript({
        mountPoint: mp,
        releaseId: id,
        artifact,
        commands: COMMANDS,
        activate: ACTIVATE,
        logDirectory: join(base, 'logs')
      })
    await run(lines('aaaaaaa', await release('one')), {}, '/bin/sh')
    const r = await run(lines('bbbbbbb', await release('two')), {}, '/bin/sh')
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: id=bbbbbbb previous=aaaaaaa switched=yes reused=no'
    )
    expect(readFileSync(join(mp, 'current', 'built'), 'utf8')).toBe(
      `${join(mp, 'releases', 'bbbbbbb')} ${join(mp, 'releases', 'bbbbbbb')}\n`
    )
  })

  it('refuses a current that is a directory (the git-on-host layout) before downloading', async () => {
    mkdirSync(join(mp, 'current'))
    const a = await release('one')
    const r = await deploy('aaaaaaa', a)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`${mp}/current exists and is not a symlink`)
    expect(hitsOf(a)).toBe(0)
  })

  it('fetches with the AWS CLI in instance-role mode', async () => {
    const a = await release('one')
    const bin = join(base, `awsbin-${n}`)
    mkdirSync(bin)
    const file = join(base, 'from-s3.tar.gz')
    writeFileSync(file, files.get(`/${a.sha256}.tar.gz`) ?? '')
    writeFileSync(join(bin, 'aws'), `#!/bin/sh\necho "$@" >${base}/aws-args\ncp ${file} "$7"\n`)
    chmodSync(join(bin, 'aws'), 0o755)
    const artifact: HostArtifact = {
      sha256: a.sha256,
      source: { kind: 's3', uri: 's3://acme-releases/web/x.tar.gz', region: 'eu-west-1' }
    }
    const lines = buildReleaseScript({ mountPoint: mp, releaseId: 'aaaaaaa', artifact })
    const r = await run(lines, { PATH: `${bin}:${process.env['PATH'] ?? ''}` })
    expect(r.code).toBe(0)
    expect(readFileSync(join(base, 'aws-args'), 'utf8')).toMatch(
      /^s3 cp --only-show-errors --region eu-west-1 s3:\/\/acme-releases\/web\/x\.tar\.gz .*\/releases\/\.tmp-aaaaaaa-\d+\n$/
    )
    expect(readFileSync(join(mp, 'current', 'VERSION'), 'utf8')).toBe('one\n')
  })
})

describe('buildRollbackScript', () => {
  it('switches back to previous and to a named release, activating, in seconds', async () => {
    const a = await release('one')
    const b = await release('two')
    await deploy('aaaaaaa', a)
    await deploy('bbbbbbb', b)
    const back = await run(
      buildRollbackScript({ mountPoint: mp, target: { kind: 'previous' }, activate: ACTIVATE })
    )
    expect(lastLine(back)).toBe(
      'ebs-autoscale-release: id=aaaaaaa previous=bbbbbbb switched=yes reused=yes'
    )
    expect(current()).toBe('releases/aaaaaaa')
    const named = await run(
      buildRollbackScript({
        mountPoint: mp,
        target: { kind: 'release', id: 'bbbbbbb' },
        activate: ACTIVATE
      })
    )
    expect(lastLine(named)).toBe(
      'ebs-autoscale-release: id=bbbbbbb previous=aaaaaaa switched=yes reused=yes'
    )
    expect(current()).toBe('releases/bbbbbbb')
    expect(readFileSync(join(mp, 'activated'), 'utf8')).toBe('one\ntwo\none\ntwo\n')
    expect(hitsOf(a) + hitsOf(b)).toBe(2) // no download
  })

  it('fails by name when the release is gone and there is nowhere to fetch it from', async () => {
    await deploy('aaaaaaa', await release('one'))
    const r = await run(
      buildRollbackScript({ mountPoint: mp, target: { kind: 'release', id: 'zzzzzzz' } })
    )
    expect(r.code).toBe(66)
    expect(r.stderr).toContain(
      `ebs-autoscale: release zzzzzzz: release zzzzzzz is not on this host (no complete ${mp}/releases/zzzzzzz) and no artifact was given to fetch it from`
    )
    expect(current()).toBe('releases/aaaaaaa')
    const none = await run(
      buildRollbackScript({ mountPoint: join(base, `empty-${n}`), target: { kind: 'previous' } })
    )
    expect(none.code).toBe(1)
    mkdirSync(join(base, `empty-${n}`))
    const nothing = await run(
      buildRollbackScript({ mountPoint: join(base, `empty-${n}`), target: { kind: 'previous' } })
    )
    expect(nothing.code).toBe(66)
    expect(nothing.stderr).toContain('no previous release is recorded on this host')
  })

  it('fetches a missing release again when its artifact is given', async () => {
    await deploy('aaaaaaa', await release('one'))
    const old = await release('zero')
    const r = await run(
      buildRollbackScript({
        mountPoint: mp,
        target: { kind: 'release', id: 'ooooooo' },
        artifact: old
      })
    )
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: id=ooooooo previous=aaaaaaa switched=yes reused=no'
    )
    expect(readFileSync(join(mp, 'current', 'VERSION'), 'utf8')).toBe('zero\n')
    expect(hitsOf(old)).toBe(1)
  })

  it('switches back when activate fails, and activates the old release again', async () => {
    await deploy('aaaaaaa', await release('one'))
    const r = await deploy('bbbbbbb', await release('two'), {
      activate: `${ACTIVATE}\ngrep -q one VERSION`
    })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      'activate failed (exit 1); current is back on aaaaaaa, activated again'
    )
    expect(current()).toBe('releases/aaaaaaa')
    expect(readFileSync(join(mp, 'activated'), 'utf8')).toBe('one\ntwo\none\n')
    expect(existsSync(join(mp, '.previous-release'))).toBe(false)
    expect(lastLine(r)).toBe(
      'ebs-autoscale-release: failed=activate id=bbbbbbb current=aaaaaaa exit=1'
    )
  })
})
