/**
 * Releases end to end (issue 16, item 7), against the emulator's exec hosts: the deploy and the
 * rollout flow ship a directory artifact through S3 (real presigned URLs, curl on each host),
 * and the tests read the end state: which release `current` names on each host, which releases
 * each host keeps, what an instance launched afterwards boots, what the bucket holds, and the
 * release tags of instances, snapshots and the template's default version. rollback-to is here
 * too; the failures (cut-off download, checksum, failing commands, full disk) are in
 * release-failures.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3'
import { runDeploy } from '../../src/flows/deploy.js'
import { runRolloutFlow } from '../../src/flows/rollout.js'
import { mapStateProvider } from '../../src/held/journal.js'
import { prepareArtifact } from '../../src/release/artifact.js'
import { makeRuntime } from '../../src/runtime.js'
import { createBucket } from '../../support/emulator/s3.js'
import { codeDir, codeVolumeWorld, type CodeVolumeWorld } from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'
import { RecordingLog } from '../helpers/log.js'
import {
  bucketKeys,
  buildArtifact,
  COMMIT,
  countingSends,
  currentOf,
  deployOf,
  fileOn,
  ID,
  MOUNT,
  PREFIX,
  releaseLines,
  releaseOptions,
  releasesOn,
  releaseTags,
  ROLLBACK_SETTINGS,
  rolloutOf,
  scaleOut,
  snapshotReleases,
  templateDefault,
  workDir
} from '../helpers/releases.js'

const emulator = useEmulator()
let work: string

beforeEach(async () => {
  work = workDir()
  await createBucket(emulator.endpoint, 'acme-releases')
})
afterEach(() => rmSync(work, { recursive: true, force: true }))

const runtime = () => makeRuntime({ log: new RecordingLog() })

/** A world of `size` exec hosts at MOUNT, empty code volumes. */
const world = (size = 3) => codeVolumeWorld(emulator.clients, { size, execMountPoint: MOUNT })

/** Deploys `version` built from `commit`; asserts it succeeded. */
async function deploy(
  w: CodeVolumeWorld,
  version: keyof typeof COMMIT,
  extra: Parameters<typeof releaseOptions>[3] = {}
) {
  const artifact = buildArtifact(work, version)
  const release = releaseOptions(work, artifact, COMMIT[version], extra)
  const result = await runDeploy(emulator.clients, deployOf(w, { release }), runtime())
  expect(result.failure?.message).toBeUndefined()
  expect(result.ok).toBe(true)
  return result
}

const sha256Of = async (dir: string) => (await prepareArtifact(dir, { tempDirectory: work })).sha256

describe('a deploy with an artifact', () => {
  it('makes the first release on empty volumes, publishes it, and a new instance boots it', async () => {
    const c = emulator.clients
    const w = await world(3)
    const before = await templateDefault(c, w.launchTemplateId)
    const sha = await sha256Of(buildArtifact(work, 'a'))

    const result = await deploy(w, 'a')

    expect(result.release).toMatchObject({ id: ID.a, uploaded: true })
    expect(result.release?.hosts).toEqual(Object.fromEntries(w.instanceIds.map((id) => [id, ID.a])))
    for (const host of w.instanceIds) {
      expect(currentOf(emulator.root, host)).toBe(`releases/${ID.a}`)
      // Nothing but the release: no download or unpack left beside it.
      expect(releasesOn(emulator.root, host)).toEqual([ID.a])
      // The commands ran inside the new release, the activate after the switch.
      expect(fileOn(emulator.root, host, `releases/${ID.a}/BUILT`)).toBe(`${ID.a}\n`)
      expect(fileOn(emulator.root, host, `releases/${ID.a}/hello.out`)).toBe('hello from a\n')
      expect(fileOn(emulator.root, host, `releases/${ID.a}/index.html`)).toBe('<h1>a</h1>\n')
      expect(fileOn(emulator.root, host, 'activations')).toBe(`${ID.a}\n`)
    }
    expect(Object.values(releaseLines(result.rollout))).toEqual(
      w.instanceIds.map(() => ({ id: ID.a, switched: true, reused: false }))
    )
    expect(await releaseTags(c, w.instanceIds)).toEqual(
      Object.fromEntries(w.instanceIds.map((id) => [id, ID.a]))
    )
    // The artifact once, and the release's record beside it.
    expect(await bucketKeys(c)).toEqual([
      `${PREFIX}/${sha}.tar.gz`,
      `${PREFIX}/releases/${ID.a}.json`
    ])
    const record = await c.s3.send(
      new GetObjectCommand({ Bucket: 'acme-releases', Key: `${PREFIX}/releases/${ID.a}.json` })
    )
    expect(JSON.parse(await record.Body!.transformToString())).toEqual({
      id: ID.a,
      sha256: sha,
      key: `${PREFIX}/${sha}.tar.gz`,
      commit: COMMIT.a
    })
    // The new default boots the snapshot tagged with the release, and its instances say so.
    const published = result.publish!.snapshot.snapshotId
    const after = await templateDefault(c, w.launchTemplateId)
    expect(after).toEqual({
      version: before.version + 1,
      snapshotId: published,
      release: ID.a,
      otherTags: before.otherTags
    })
    expect((await snapshotReleases(c))[published]).toBe(ID.a)

    const [fresh] = await scaleOut(c, w)
    expect(currentOf(emulator.root, fresh!)).toBe(`releases/${ID.a}`)
    expect(releasesOn(emulator.root, fresh!)).toEqual([ID.a])
    expect(fileOn(emulator.root, fresh!, `releases/${ID.a}/BUILT`)).toBe(`${ID.a}\n`)
    expect(await releaseTags(c, [fresh!])).toEqual({ [fresh!]: ID.a })
  })

  it('deletes the archive it packed on the runner, shipped or not', async () => {
    const w = await world(2)
    const packed = () => readdirSync(work).filter((f) => /^ebs-autoscale-.*\.tar\.gz$/.test(f))

    await deploy(w, 'a')
    expect(packed()).toEqual([])

    // Failing after the pack and before shipping: no host matches.
    const release = releaseOptions(work, buildArtifact(work, 'b'), COMMIT.b)
    const nobody = { tags: new Map([['Role', ['nobody']]]), states: ['running' as const] }
    await expect(
      runDeploy(emulator.clients, deployOf(w, { release, query: nobody }), runtime())
    ).rejects.toThrow('No running instance matched')
    const flow = runRolloutFlow(
      emulator.clients,
      {
        hosts: { query: nobody },
        rollout: deployOf(w).rollout,
        traffic: { targetGroups: { auto: false, given: [] } },
        release
      },
      runtime(),
      mapStateProvider()
    )
    await expect(flow).rejects.toThrow('No running instance matched')
    expect(packed()).toEqual([])
  })

  it('switches to a second commit, keeping the first as previous', async () => {
    const c = emulator.clients
    const w = await world(2)
    await deploy(w, 'a')
    const result = await deploy(w, 'b')

    expect(result.release).toMatchObject({ id: ID.b, uploaded: true })
    for (const host of w.instanceIds) {
      expect(currentOf(emulator.root, host)).toBe(`releases/${ID.b}`)
      expect(releasesOn(emulator.root, host)).toEqual([ID.a, ID.b])
      expect(fileOn(emulator.root, host, '.previous-release')).toBe(`${ID.a}\n`)
      expect(fileOn(emulator.root, host, 'activations')).toBe(`${ID.a}\n${ID.b}\n`)
    }
    expect(Object.values(releaseLines(result.rollout))).toEqual(
      w.instanceIds.map(() => ({ id: ID.b, previous: ID.a, switched: true, reused: false }))
    )
    expect(await releaseTags(c, w.instanceIds)).toEqual(
      Object.fromEntries(w.instanceIds.map((id) => [id, ID.b]))
    )
    const keys = await bucketKeys(c)
    expect(keys.filter((k) => k.endsWith('.tar.gz'))).toHaveLength(2)
    expect(keys.filter((k) => k.includes('/releases/'))).toEqual([
      `${PREFIX}/releases/${ID.a}.json`,
      `${PREFIX}/releases/${ID.b}.json`
    ])
    expect(await templateDefault(c, w.launchTemplateId)).toMatchObject({ release: ID.b })
    const [fresh] = await scaleOut(c, w)
    expect(currentOf(emulator.root, fresh!)).toBe(`releases/${ID.b}`)
  })

  it('keeps keep-releases releases over several deploys, current and previous among them', async () => {
    const w = await world(2)
    const seen: string[][] = []
    for (const version of ['a', 'b', 'c', 'd'] as const) {
      await deploy(w, version, { keepReleases: 2 })
      seen.push(releasesOn(emulator.root, w.instanceIds[0]!))
    }
    expect(seen).toEqual([[ID.a], [ID.a, ID.b], [ID.b, ID.c], [ID.c, ID.d]])
    for (const host of w.instanceIds) {
      expect(currentOf(emulator.root, host)).toBe(`releases/${ID.d}`)
      expect(releasesOn(emulator.root, host)).toEqual([ID.c, ID.d])
      expect(fileOn(emulator.root, host, '.previous-release')).toBe(`${ID.c}\n`)
    }
  })

  it('re-run of the same commit and bytes: nothing uploaded, nothing downloaded, the release reused', async () => {
    const c = emulator.clients
    const w = await world(2)
    await deploy(w, 'a')
    const keys = await bucketKeys(c)

    const again = await deploy(w, 'a')

    expect(again.release).toMatchObject({ id: ID.a, uploaded: false })
    // Looked up, never written: the artifact and the record are there already.
    expect(again.release?.s3Requests?.['PutObject']).toBeUndefined()
    expect(again.release?.s3Requests).toEqual({ HeadObject: 1, GetObject: 1 })
    expect(await bucketKeys(c)).toEqual(keys)
    expect(Object.values(releaseLines(again.rollout))).toEqual(
      w.instanceIds.map(() => ({ id: ID.a, switched: false, reused: true }))
    )
    for (const host of w.instanceIds) {
      expect(currentOf(emulator.root, host)).toBe(`releases/${ID.a}`)
      expect(releasesOn(emulator.root, host)).toEqual([ID.a])
      // Activated again; the commands did not run again (BUILT is as the first run wrote it).
      expect(fileOn(emulator.root, host, 'activations')).toBe(`${ID.a}\n${ID.a}\n`)
    }
    expect((await snapshotReleases(c))[again.publish!.snapshot.snapshotId]).toBe(ID.a)
  })
})

describe('rollback-to on the deploy', () => {
  /** Two deploys, a then b, on a world of `size`. */
  async function twoReleases(size = 3) {
    const w = await world(size)
    const first = await deploy(w, 'a')
    await deploy(w, 'b')
    // The deploy's order (launch time, then id): the first is the primary, the canary.
    const primary = first.rollout!.primaryInstanceId!
    const hosts = [primary, ...w.instanceIds.filter((id) => id !== primary)]
    return { w, hosts, snapshotOfA: first.publish!.snapshot.snapshotId }
  }

  it('previous: every host back in one command, no download, and new instances boot it from its snapshot', async () => {
    const c = emulator.clients
    const { w, snapshotOfA } = await twoReleases()
    const snapshotsBefore = Object.keys(await snapshotReleases(c)).sort()
    const versionBefore = (await templateDefault(c, w.launchTemplateId)).version
    const { ssm, perHost } = countingSends(c)

    const result = await runDeploy(
      { ...c, ssm },
      deployOf(w, { rollbackTo: { target: { kind: 'previous' }, settings: ROLLBACK_SETTINGS } }),
      runtime()
    )

    expect(result.failure?.message).toBeUndefined()
    expect(result.ok).toBe(true)
    expect(perHost).toEqual(Object.fromEntries(w.instanceIds.map((id) => [id, 1])))
    expect(Object.values(releaseLines(result.rollout))).toEqual(
      w.instanceIds.map(() => ({ id: ID.a, previous: ID.b, switched: true, reused: true }))
    )
    for (const host of w.instanceIds) {
      expect(currentOf(emulator.root, host)).toBe(`releases/${ID.a}`)
      expect(releasesOn(emulator.root, host)).toEqual([ID.a, ID.b])
      expect(fileOn(emulator.root, host, 'activations')).toBe(`${ID.a}\n${ID.b}\n${ID.a}\n`)
    }
    expect(await releaseTags(c, w.instanceIds)).toEqual(
      Object.fromEntries(w.instanceIds.map((id) => [id, ID.a]))
    )
    // Published from a's existing snapshot: no snapshot made.
    expect(Object.keys(await snapshotReleases(c)).sort()).toEqual(snapshotsBefore)
    expect(await templateDefault(c, w.launchTemplateId)).toMatchObject({
      version: versionBefore + 1,
      snapshotId: snapshotOfA,
      release: ID.a
    })
    const [fresh] = await scaleOut(c, w)
    expect(currentOf(emulator.root, fresh!)).toBe(`releases/${ID.a}`)
    expect(await releaseTags(c, [fresh!])).toEqual({ [fresh!]: ID.a })
  })

  it('a named release a host lacks is fetched again from the store', async () => {
    const c = emulator.clients
    const { w, hosts } = await twoReleases(2)
    const [primary, lacking] = hosts
    rmSync(join(codeDir(emulator.root, lacking!), 'releases', ID.a), { recursive: true })

    const result = await runDeploy(
      c,
      deployOf(w, {
        rollbackTo: { target: { kind: 'release', id: ID.a }, settings: ROLLBACK_SETTINGS }
      }),
      runtime()
    )

    expect(result.failure?.message).toBeUndefined()
    const lines = releaseLines(result.rollout)
    expect(lines[primary!]).toMatchObject({ id: ID.a, switched: true, reused: true })
    expect(lines[lacking!]).toMatchObject({ id: ID.a, switched: true, reused: false })
    for (const host of w.instanceIds) {
      expect(currentOf(emulator.root, host)).toBe(`releases/${ID.a}`)
      expect(releasesOn(emulator.root, host)).toEqual([ID.a, ID.b])
      expect(fileOn(emulator.root, host, `releases/${ID.a}/index.html`)).toBe('<h1>a</h1>\n')
    }
    expect(await templateDefault(c, w.launchTemplateId)).toMatchObject({ release: ID.a })
  })

  it('a named release the store no longer has fails by name on the host that lacks it', async () => {
    const c = emulator.clients
    const { w, hosts } = await twoReleases(2)
    const [primary, lacking] = hosts
    rmSync(join(codeDir(emulator.root, lacking!), 'releases', ID.a), { recursive: true })
    const sha = await sha256Of(buildArtifact(work, 'a'))
    await c.s3.send(
      new DeleteObjectCommand({ Bucket: 'acme-releases', Key: `${PREFIX}/${sha}.tar.gz` })
    )
    const before = await templateDefault(c, w.launchTemplateId)

    const result = await runDeploy(
      c,
      deployOf(w, {
        rollbackTo: { target: { kind: 'release', id: ID.a }, settings: ROLLBACK_SETTINGS }
      }),
      runtime()
    )

    expect(result.ok).toBe(false)
    expect(result.failure?.message).toMatch(
      /^The switch back failed \(.*\): the launch template's default is unchanged\.$/
    )
    const failed = result.rollout!.results.find((r) => r.instanceId === lacking)!
    expect(failed).toMatchObject({ status: 'Failed', exitCode: 66 })
    expect(failed.stderrTail).toContain(
      `ebs-autoscale: release ${ID.a}: release ${ID.a} is not on this host (no complete ${MOUNT}/releases/${ID.a}) and no artifact was given to fetch it from`
    )
    expect(releaseLines(result.rollout)[lacking!]).toEqual({
      id: ID.a,
      failed: 'find',
      current: ID.b,
      exitCode: 66
    })
    // The primary held it and switched; the host without it still serves b.
    expect(currentOf(emulator.root, primary!)).toBe(`releases/${ID.a}`)
    expect(currentOf(emulator.root, lacking!)).toBe(`releases/${ID.b}`)
    expect(releasesOn(emulator.root, lacking!)).toEqual([ID.b])
    expect(await releaseTags(c, w.instanceIds)).toEqual({ [primary!]: ID.a, [lacking!]: ID.b })
    expect(await templateDefault(c, w.launchTemplateId)).toEqual(before)
  })
})

describe('the rollout flow with an artifact', () => {
  it('switches the hosts and tags them, and leaves the template alone', async () => {
    const c = emulator.clients
    const w = await world(2)
    const before = await templateDefault(c, w.launchTemplateId)
    const snapshotsBefore = await snapshotReleases(c)
    const release = releaseOptions(work, buildArtifact(work, 'a'), COMMIT.a)

    const result = await runRolloutFlow(
      c,
      rolloutOf(
        { query: { tags: new Map(), states: ['running'], asgNames: [w.asgName] } },
        { release }
      ),
      runtime(),
      mapStateProvider()
    )

    expect(result.rollout.ok).toBe(true)
    expect(result.release).toMatchObject({ id: ID.a, uploaded: true })
    expect(result.release?.hosts).toEqual(Object.fromEntries(w.instanceIds.map((id) => [id, ID.a])))
    for (const host of w.instanceIds) {
      expect(currentOf(emulator.root, host)).toBe(`releases/${ID.a}`)
      expect(releasesOn(emulator.root, host)).toEqual([ID.a])
      expect(fileOn(emulator.root, host, `releases/${ID.a}/BUILT`)).toBe(`${ID.a}\n`)
    }
    expect(await releaseTags(c, w.instanceIds)).toEqual(
      Object.fromEntries(w.instanceIds.map((id) => [id, ID.a]))
    )
    expect(await templateDefault(c, w.launchTemplateId)).toEqual(before)
    expect(await snapshotReleases(c)).toEqual(snapshotsBefore)
  })
})
