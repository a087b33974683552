/**
 * Releases that fail on a host (issue 16, item 7), against the emulator's exec hosts: a
 * download cut off half-way, bytes that are not the artifact's, a command failing on one host
 * after others switched, a disk that fills while unpacking. Each time the failing host keeps
 * its `current`, the hosts that switched are switched back, and the deploy publishes nothing.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs'
import { join } from 'node:path'
import { runDeploy } from '../../src/flows/deploy.js'
import { runRolloutFlow } from '../../src/flows/rollout.js'
import { mapStateProvider } from '../../src/held/journal.js'
import { prepareArtifact } from '../../src/release/artifact.js'
import { makeRuntime } from '../../src/runtime.js'
import { createBucket, putObject } from '../../support/emulator/s3.js'
import { codeDir, codeVolumeWorld, type CodeVolumeWorld } from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'
import { RecordingLog } from '../helpers/log.js'
import {
  BUCKET,
  bucketKeys,
  buildArtifact,
  COMMIT,
  currentOf,
  deployOf,
  fileOn,
  ID,
  PREFIX,
  releaseLines,
  releaseOptions,
  releasesOn,
  releaseTags,
  ROLLBACK_SETTINGS,
  rolloutOf,
  snapshotReleases,
  templateDefault,
  workDir
} from '../helpers/releases.js'

const emulator = useEmulator()
let work: string

beforeEach(async () => {
  work = workDir()
  await createBucket(emulator.endpoint, BUCKET)
})
afterEach(() => rmSync(work, { recursive: true, force: true }))

const runtime = () => makeRuntime({ log: new RecordingLog() })

/** `size` exec hosts, in the deploy's order (launch time, then id): the first is the primary. */
async function world(size: number): Promise<CodeVolumeWorld> {
  const w = await codeVolumeWorld(emulator.clients, { size, execMountPoint: '/srv/app' })
  return { ...w, instanceIds: [...w.instanceIds].sort() }
}

async function deploy(
  w: CodeVolumeWorld,
  version: keyof typeof COMMIT,
  extra: Parameters<typeof releaseOptions>[3] = {},
  artifact = buildArtifact(work, version)
) {
  const release = releaseOptions(work, artifact, COMMIT[version], extra)
  return runDeploy(emulator.clients, deployOf(w, { release }), runtime())
}

/** Deploys a; asserts it worked and every host is on it. */
async function onA(w: CodeVolumeWorld) {
  const result = await deploy(w, 'a')
  expect(result.failure?.message).toBeUndefined()
  expect(result.rollout?.primaryInstanceId).toBe(w.instanceIds[0])
  for (const host of w.instanceIds) expect(currentOf(emulator.root, host)).toBe(`releases/${ID.a}`)
}

/** The artifact's bytes and SHA-256, packed as the deploy packs it. */
async function packed(dir: string) {
  const artifact = await prepareArtifact(dir, { tempDirectory: work })
  return { bytes: readFileSync(artifact.path), sha256: artifact.sha256 }
}

/** What a failed deploy leaves: nothing published, and every host on a as it was. */
async function expectNothingPublished(
  w: CodeVolumeWorld,
  result: Awaited<ReturnType<typeof deploy>>,
  before: Awaited<ReturnType<typeof templateDefault>>
) {
  expect(result.ok).toBe(false)
  expect(result.failure?.message).toMatch(
    /nothing was published; the launch template's default is unchanged\./
  )
  expect(await templateDefault(emulator.clients, w.launchTemplateId)).toEqual(before)
  for (const host of w.instanceIds) expect(currentOf(emulator.root, host)).toBe(`releases/${ID.a}`)
  expect(await releaseTags(emulator.clients, w.instanceIds)).toEqual(
    Object.fromEntries(w.instanceIds.map((id) => [id, ID.a]))
  )
}

describe('a release that fails on a host', () => {
  it('a download cut off half-way: that host keeps its current, those that switched are switched back', async () => {
    const c = emulator.clients
    const w = await world(3)
    const [primary, second, third] = w.instanceIds
    await onA(w)
    // The primary and the second host hold b already (shipped to them, then switched back to a),
    // so they switch without downloading; the third must download it.
    const release = releaseOptions(work, buildArtifact(work, 'b'), COMMIT.b)
    const some = rolloutOf({ instanceIds: [primary!, second!] }, { release })
    expect((await runRolloutFlow(c, some, runtime(), mapStateProvider())).rollout.ok).toBe(true)
    const back = rolloutOf(
      { instanceIds: [primary!, second!] },
      { rollbackTo: { target: { kind: 'release', id: ID.a }, settings: ROLLBACK_SETTINGS } }
    )
    expect((await runRolloutFlow(c, back, runtime(), mapStateProvider())).rollout.ok).toBe(true)
    // From now on every GET of b's artifact sends half of it and closes.
    const b = await packed(buildArtifact(work, 'b'))
    await putObject(emulator.endpoint, BUCKET, `${PREFIX}/${b.sha256}.tar.gz`, b.bytes, {
      cutOff: true
    })
    const before = await templateDefault(c, w.launchTemplateId)

    const result = await deploy(w, 'b')

    expect(result.release).toMatchObject({ id: ID.b, uploaded: false })
    const failed = result.rollout!.results.find((r) => r.instanceId === third)!
    expect(failed).toMatchObject({ status: 'Failed', exitCode: 69 })
    expect(failed.stderrTail).toContain(
      `ebs-autoscale: release ${ID.b}: the download failed (curl exit 18)`
    )
    expect(releaseLines(result.rollout)).toEqual({
      [primary!]: { id: ID.b, previous: ID.a, switched: true, reused: true },
      [second!]: { id: ID.b, previous: ID.a, switched: true, reused: true },
      [third!]: { id: ID.b, failed: 'download', current: ID.a, exitCode: 69 }
    })
    // The automatic way back, on every host that started: the two that switched return to a;
    // the third never left it and says so.
    expect(releaseLines(result.rollback?.rollout)).toEqual({
      [primary!]: { id: ID.a, previous: ID.b, switched: true, reused: true },
      [second!]: { id: ID.a, previous: ID.b, switched: true, reused: true },
      [third!]: { id: ID.a, switched: false, reused: true }
    })
    await expectNothingPublished(w, result, before)
    // Nothing of the broken download is left on the third host.
    expect(releasesOn(emulator.root, third!)).toEqual([ID.a])
    expect(releasesOn(emulator.root, primary!)).toEqual([ID.a, ID.b])
  })

  it('bytes that are not the artifact: the checksum fails, current untouched, the exit reported', async () => {
    const c = emulator.clients
    const w = await world(2)
    await onA(w)
    // After the upload and before the rollout, as far as the deploy can tell: the object under
    // b's key has the size HeadObject expects, so nothing is uploaded, but not its bytes.
    const b = await packed(buildArtifact(work, 'b'))
    const other = Buffer.from(b.bytes)
    other[other.length - 20] = other[other.length - 20]! ^ 0xff
    await putObject(emulator.endpoint, BUCKET, `${PREFIX}/${b.sha256}.tar.gz`, other)
    const before = await templateDefault(c, w.launchTemplateId)

    const result = await deploy(w, 'b')

    expect(result.release).toMatchObject({ id: ID.b, uploaded: false })
    const [primary, second] = w.instanceIds
    const failed = result.rollout!.results.find((r) => r.instanceId === primary)!
    expect(failed).toMatchObject({ status: 'Failed', exitCode: 65 })
    expect(failed.stderrTail).toMatch(
      new RegExp(
        `ebs-autoscale: release ${ID.b}: the artifact's SHA-256 is [0-9a-f]{64}, not ${b.sha256}: the download is damaged or incomplete`
      )
    )
    expect(releaseLines(result.rollout)).toEqual({
      [primary!]: { id: ID.b, failed: 'checksum', current: ID.a, exitCode: 65 }
    })
    expect(result.rollout!.results.find((r) => r.instanceId === second)?.status).toBe('Skipped')
    await expectNothingPublished(w, result, before)
    for (const host of w.instanceIds) expect(releasesOn(emulator.root, host)).toEqual([ID.a])
  })

  it('a command failing on one host after others switched: they are switched back, nothing published', async () => {
    const c = emulator.clients
    const w = await world(3)
    const [primary, second, third] = w.instanceIds
    await onA(w)
    const before = await templateDefault(c, w.launchTemplateId)
    const snapshotsBefore = Object.keys(await snapshotReleases(c))
    const commands = [
      `if [ "$EMULATOR_INSTANCE_ID" = ${third} ]; then echo "migration failed" >&2; exit 3; fi`,
      'echo built > BUILT'
    ].join('\n')

    const result = await deploy(w, 'b', { commands })

    expect(releaseLines(result.rollout)).toEqual({
      [primary!]: { id: ID.b, previous: ID.a, switched: true, reused: false },
      [second!]: { id: ID.b, previous: ID.a, switched: true, reused: false },
      [third!]: { id: ID.b, failed: 'commands', current: ID.a, exitCode: 3 }
    })
    expect(result.rollout!.results.find((r) => r.instanceId === third)?.outputTail).toContain(
      'migration failed'
    )
    expect(releaseLines(result.rollback?.rollout)).toEqual({
      [primary!]: { id: ID.a, previous: ID.b, switched: true, reused: true },
      [second!]: { id: ID.a, previous: ID.b, switched: true, reused: true },
      [third!]: { id: ID.a, switched: false, reused: true }
    })
    await expectNothingPublished(w, result, before)
    // activate ran after each switch, and after the switch back.
    expect(fileOn(emulator.root, primary!, 'activations')).toBe(`${ID.a}\n${ID.b}\n${ID.a}\n`)
    expect(fileOn(emulator.root, third!, 'activations')).toBe(`${ID.a}\n`)
    // The failed host removed what it made; the others keep b for a later switch.
    expect(releasesOn(emulator.root, third!)).toEqual([ID.a])
    expect(releasesOn(emulator.root, second!)).toEqual([ID.a, ID.b])
    // The primary's snapshot (of b) was taken, and kept tagged failed, never published.
    const made = Object.entries(await snapshotReleases(c)).filter(
      ([id]) => !snapshotsBefore.includes(id)
    )
    expect(made.map(([, release]) => release)).toEqual([ID.b])
  })

  it('a disk that fills while unpacking: that host keeps its current, nothing left behind', async () => {
    const c = emulator.clients
    const w = await world(1)
    const [host] = w.instanceIds
    const volume = codeDir(emulator.root, host!)
    // A real full disk where this process may mount one (root): the host's volume is a 1 MiB
    // tmpfs. Elsewhere, a `tar` that fails as a full disk makes it fail, first on the PATH the
    // script gets through its environment (the host script's unit test does the same:
    // test/unit/release-host-script.test.ts).
    const mounted = tryMount(volume)
    const env: Array<[string, string]> = mounted ? [] : [['PATH', `${fullDiskTar()}:/usr/bin:/bin`]]
    try {
      const a = await deploy(w, 'a')
      expect(a.failure?.message).toBeUndefined()
      const before = await templateDefault(c, w.launchTemplateId)
      // 4 MiB of zeros: a few KiB to download, more than the volume holds once unpacked.
      const big = buildArtifact(work, 'b', { 'data.bin': '\0'.repeat(4 * 1024 * 1024) })

      const result = await deploy(w, 'b', { env }, big)

      const failed = result.rollout!.results[0]!
      expect(failed).toMatchObject({ instanceId: host, status: 'Failed', exitCode: 74 })
      expect(failed.stderrTail).toContain('No space left on device')
      expect(failed.stderrTail).toMatch(
        new RegExp(
          `ebs-autoscale: release ${ID.b}: unpacking the artifact into /srv/app/releases failed \\(\\d+ KiB free there\\)`
        )
      )
      expect(releaseLines(result.rollout)).toEqual({
        [host!]: { id: ID.b, failed: 'unpack', current: ID.a, exitCode: 74 }
      })
      await expectNothingPublished(w, result, before)
      // The half-unpacked release and the download are gone: the space is free again.
      expect(releasesOn(emulator.root, host!)).toEqual([ID.a])
      expect(await bucketKeys(c)).toHaveLength(4)
    } finally {
      if (mounted) execFileSync('umount', [volume])
    }
  })
})

/** Mounts a 1 MiB tmpfs at `dir`; false where this process may not. */
function tryMount(dir: string): boolean {
  mkdirSync(dir, { recursive: true })
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** A directory with a `tar` that writes a little, then fails as a full disk does. */
function fullDiskTar(): string {
  const bin = join(work, 'full-disk-bin')
  mkdirSync(bin, { recursive: true })
  writeFileSync(
    join(bin, 'tar'),
    '#!/bin/sh\nfor a; do last=$a; done\n: >"$last/half-written"\necho "tar: data.bin: Cannot write: No space left on device" >&2\nexit 2\n'
  )
  chmodSync(join(bin, 'tar'), 0o755)
  return bin
}
