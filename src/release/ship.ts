/**
 * A release, from the runner to the store: the artifact packed and hashed on the runner (local,
 * read-only: done before any AWS call), then uploaded once per content and named (registry.ts).
 * Hosts then fetch it themselves, each with a fresh presigned URL (or its instance role).
 */
import type { S3Client } from '@aws-sdk/client-s3'
import type { Log } from '../log.js'
import { type Artifact, discardArtifact, prepareArtifact } from './artifact.js'
import { ReleaseRegistry } from './registry.js'
import { ArtifactStore, type FetchMode, type StoredArtifact } from './store.js'

/** Where artifacts are kept, and how hosts fetch them. */
export interface StoreSettings {
  bucket: string
  prefix: string
  fetch: FetchMode
  urlLifetimeSeconds: number
}

/** How releases are laid out on each host, and where they come from (the artifact inputs). */
export interface ReleaseSettings {
  /** Where the code volume is mounted on each host: releases/ and current live there. */
  mountPoint: string
  keepReleases: number
  /** Run as root in `current` right after the switch; a failure switches back. */
  activate?: string
  /** The store; a rollback without it cannot fetch a release a host lacks. */
  store?: StoreSettings
}

/** A release to ship: the artifact (a .tar.gz/.tgz, or a directory packed reproducibly). */
export interface ShipSettings extends ReleaseSettings {
  artifact: string
  store: StoreSettings
  /** Where a packed directory's archive is written (the runner's temp directory). */
  tempDirectory?: string
}

export interface ShippedRelease {
  id: string
  stored: StoredArtifact
  store: ArtifactStore
}

/** Read-only: the artifact, packed when a directory, and its SHA-256. */
export async function packRelease(settings: ShipSettings): Promise<Artifact> {
  return prepareArtifact(settings.artifact, {
    ...(settings.tempDirectory ? { tempDirectory: settings.tempDirectory } : {})
  })
}

export function artifactStore(s3: S3Client, settings: StoreSettings): ArtifactStore {
  return new ArtifactStore(s3, {
    bucket: settings.bucket,
    prefix: settings.prefix,
    mode: settings.fetch,
    urlLifetimeSeconds: settings.urlLifetimeSeconds
  })
}

/**
 * A release the store shipped, and its artifact if the bucket still has it (a rollback's
 * refetch); undefined when either is gone.
 */
export async function findRelease(
  store: ArtifactStore,
  id: string
): Promise<{ store: ArtifactStore; stored: StoredArtifact } | undefined> {
  const record = await new ReleaseRegistry(store.s3, store).find(id)
  if (!record || !(await store.has(record.sha256))) return undefined
  const stored = {
    bucket: store.bucket,
    key: record.key,
    sha256: record.sha256,
    size: 0,
    uploaded: false
  }
  return { store, stored }
}

/**
 * Runs `body` with the artifact packed (none without settings), then deletes the file packed
 * (never a file given as is) however `body` ends: shipped, failed before shipping, or thrown.
 */
export async function withPackedRelease<T>(
  settings: ShipSettings | undefined,
  body: (artifact: Artifact | undefined) => Promise<T>
): Promise<T> {
  const artifact = settings ? await packRelease(settings) : undefined
  try {
    return await body(artifact)
  } finally {
    if (artifact) await discardArtifact(artifact)
  }
}

/** Uploads the artifact unless the store has it, and names its release. */
export async function shipRelease(
  s3: S3Client,
  settings: ShipSettings,
  artifact: Artifact,
  commit: string,
  log: Log
): Promise<ShippedRelease> {
  const store = artifactStore(s3, settings.store)
  let stored: StoredArtifact
  try {
    stored = await store.upload(artifact)
  } finally {
    await discardArtifact(artifact)
  }
  const id = await new ReleaseRegistry(s3, store).claim(stored, commit)
  log.info(
    `Release ${id}: s3://${stored.bucket}/${stored.key} (${stored.size} bytes, SHA-256 ${stored.sha256}), ${stored.uploaded ? 'uploaded' : 'already in the bucket: nothing uploaded'}.`
  )
  return { id, stored, store }
}
