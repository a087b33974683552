/**
 * The releases an artifact store has seen: one small record per release id,
 * `<prefix>/releases/<id>.json` ({ id, sha256, key, commit }), beside the artifacts. It decides
 * the id of a new release (the commit's short SHA, unless that id already names other bytes: see
 * release-id.ts) and tells a rollback which artifact a release id was, to fetch it again.
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { aws, awsErrorCode, wrapAwsError } from '../errors.js'
import { releaseId } from './release-id.js'
import type { ArtifactStore, StoredArtifact } from './store.js'

export interface ReleaseRecord {
  id: string
  sha256: string
  /** The artifact's key in the bucket. */
  key: string
  commit: string
}

export class ReleaseRegistry {
  constructor(
    private readonly s3: S3Client,
    /** The store whose bucket and prefix hold the records, and whose counter counts the calls. */
    private readonly store: Pick<ArtifactStore, 'bucket' | 'prefix' | 'count'>
  ) {}

  /** The id of this artifact's release, recorded if new: the same bytes always get the same id. */
  async claim(stored: StoredArtifact, commit: string): Promise<string> {
    const known = new Map<string, string>()
    for (;;) {
      const id = releaseId({ commit, sha256: stored.sha256, known })
      const record = await this.find(id)
      if (record && record.sha256 !== stored.sha256) {
        known.set(id, record.sha256)
        continue
      }
      if (!record) await this.write({ id, sha256: stored.sha256, key: stored.key, commit })
      return id
    }
  }

  /** The record of a release id, or undefined when this store never shipped it. */
  async find(id: string): Promise<ReleaseRecord | undefined> {
    this.store.count('GetObject')
    try {
      const get = new GetObjectCommand({ Bucket: this.store.bucket, Key: this.keyOf(id) })
      const out = await this.s3.send(get)
      return JSON.parse((await out.Body?.transformToString()) ?? '{}') as ReleaseRecord
    } catch (err) {
      const code = awsErrorCode(err)
      if (code === 'NoSuchKey' || code === 'NotFound') return undefined
      throw wrapAwsError('GetObject', err)
    }
  }

  private async write(record: ReleaseRecord): Promise<void> {
    this.store.count('PutObject')
    const put = new PutObjectCommand({
      Bucket: this.store.bucket,
      Key: this.keyOf(record.id),
      Body: JSON.stringify(record),
      ContentType: 'application/json'
    })
    await aws('PutObject', this.s3.send(put))
  }

  private keyOf(id: string): string {
    const { prefix } = this.store
    return `${prefix ? `${prefix}/` : ''}releases/${id}.json`
  }
}
