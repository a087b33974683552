/**
 * The artifact store: one S3 object per content, `<prefix>/<sha256>.tar.gz`, so a re-run of the
 * same content finds it (HeadObject) and uploads nothing, and a rollback can fetch any release
 * still in the bucket by its hash.
 *
 * Hosts need no credentials of their own: each host's command carries a presigned GET URL made
 * when that command is sent, valid for `urlLifetimeSeconds` (15 minutes by default) or until the
 * credentials that signed it expire, whichever comes first. Anyone holding the URL can read the
 * artifact until then, and SSM keeps command parameters readable to whoever may call
 * ssm:ListCommands or ssm:GetCommandInvocation in the account. Where an organisation forbids that,
 * `instance-role` mode sends no URL: the host copies `s3://bucket/key` with the AWS CLI and its
 * instance role (which then needs s3:GetObject on the prefix).
 */
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client
} from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { open } from 'node:fs/promises'
import { aws, awsErrorCode, SettingError } from '../errors.js'
import type { Artifact } from './artifact.js'

export type FetchMode = 'presigned-url' | 'instance-role'

export interface StoreOptions {
  bucket: string
  /** Key prefix, without leading or trailing slashes ('' for the bucket's root). */
  prefix?: string
  mode?: FetchMode
  /** The presigned URL's lifetime: 900 s by default; S3 allows at most 7 days. */
  urlLifetimeSeconds?: number
}

/** An artifact in the bucket. */
export interface StoredArtifact {
  readonly bucket: string
  readonly key: string
  readonly sha256: string
  readonly size: number
  /** False when the object was there already (the same content shipped before). */
  readonly uploaded: boolean
}

/** How a host gets the artifact: the fetch line of its script is built from this (host-script.ts). */
export type ArtifactSource =
  | { readonly kind: 'url'; readonly url: string }
  | { readonly kind: 's3'; readonly uri: string; readonly region: string }

/** S3 hides whether a key exists from a caller who may not list the bucket: 403, not 404. */
const HEAD_403 =
  'S3 answers 403 for a missing key when the role may not list the bucket; grant s3:ListBucket on the bucket (the prefix) besides s3:GetObject and s3:PutObject on the prefix'

export const DEFAULT_URL_LIFETIME_SECONDS = 15 * 60
const MAX_URL_LIFETIME_SECONDS = 7 * 24 * 3600
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/
const PREFIX = /^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/

export function validateBucket(bucket: string): string {
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new SettingError(
      'artifactBucket',
      `${JSON.stringify(bucket)} is not an S3 bucket name. Expected 3 to 63 lowercase letters, digits, dots and hyphens.`
    )
  }
  return bucket
}

/** The prefix with its slashes trimmed; each part must be a plain key segment (no `..`, no spaces). */
export function validatePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/^\/+|\/+$/g, '')
  if (trimmed && (!PREFIX.test(trimmed) || trimmed.split('/').some((p) => /^\.+$/.test(p)))) {
    throw new SettingError(
      'artifactPrefix',
      `${JSON.stringify(prefix)} is not a usable key prefix. Expected path segments of letters, digits and !_.*'()- separated by "/".`
    )
  }
  return trimmed
}

export const artifactKey = (prefix: string, sha256: string): string =>
  `${prefix ? `${prefix}/` : ''}${sha256}.tar.gz`

export class ArtifactStore {
  /** S3 API calls made, by name (retries not counted): the benchmark's requests per deploy. */
  readonly requests: Record<string, number> = {}
  readonly bucket: string
  /** Without leading or trailing slashes. */
  readonly prefix: string
  private readonly mode: FetchMode
  private readonly lifetime: number

  constructor(
    readonly s3: S3Client,
    options: StoreOptions
  ) {
    this.bucket = validateBucket(options.bucket)
    this.prefix = validatePrefix(options.prefix ?? '')
    this.mode = options.mode ?? 'presigned-url'
    this.lifetime = options.urlLifetimeSeconds ?? DEFAULT_URL_LIFETIME_SECONDS
    if (!Number.isInteger(this.lifetime) || this.lifetime < 1) {
      throw new RangeError(
        `urlLifetimeSeconds must be a whole number of seconds, not ${this.lifetime}`
      )
    }
    if (this.lifetime > MAX_URL_LIFETIME_SECONDS) {
      throw new RangeError(
        `urlLifetimeSeconds must be at most 7 days (S3's limit), not ${this.lifetime}`
      )
    }
  }

  keyOf(sha256: string): string {
    return artifactKey(this.prefix, sha256)
  }

  /** Uploads the artifact unless an object of its size is already under its key. */
  async upload(artifact: Artifact): Promise<StoredArtifact> {
    const key = this.keyOf(artifact.sha256)
    const found = await this.existing(key)
    const stored = { bucket: this.bucket, key, sha256: artifact.sha256, size: artifact.size }
    if (found === artifact.size) return { ...stored, uploaded: false }
    this.count('PutObject')
    // S3 checks the SHA-256 itself and refuses the object (BadDigest) if the bytes differ.
    // Opened here, so no error can surface later on a stream nobody listens to.
    const file = await open(artifact.path, 'r')
    const body = file.createReadStream({ autoClose: false })
    const put = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentLength: artifact.size,
      ContentType: 'application/gzip',
      ChecksumSHA256: Buffer.from(artifact.sha256, 'hex').toString('base64'),
      Metadata: { sha256: artifact.sha256 }
    })
    try {
      await aws('PutObject', this.s3.send(put))
    } finally {
      body.destroy()
      await file.close()
    }
    return { ...stored, uploaded: true }
  }

  /** Whether the artifact with this hash is still in the bucket (a rollback's refetch). */
  async has(sha256: string): Promise<boolean> {
    return (await this.existing(this.keyOf(sha256))) !== undefined
  }

  /** Where one host fetches the artifact: call it as each host's command is sent. */
  async source(stored: Pick<StoredArtifact, 'key'>): Promise<ArtifactSource> {
    if (this.mode === 'instance-role') {
      const region = await this.s3.config.region()
      return { kind: 's3', uri: `s3://${this.bucket}/${stored.key}`, region }
    }
    const command = new GetObjectCommand({ Bucket: this.bucket, Key: stored.key })
    const url = await aws(
      'GetObject (presign)',
      getSignedUrl(this.s3, command, { expiresIn: this.lifetime })
    )
    return { kind: 'url', url }
  }

  /** The object's size, or undefined when there is none (a 404 from HeadObject). */
  private async existing(key: string): Promise<number | undefined> {
    this.count('HeadObject')
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))
      return head.ContentLength ?? 0
    } catch (err) {
      const code = awsErrorCode(err)
      if (code === 'NotFound' || code === 'NoSuchKey') return undefined
      return aws('HeadObject', Promise.reject(err), code === 'Forbidden' ? HEAD_403 : undefined)
    }
  }

  count(api: string): void {
    this.requests[api] = (this.requests[api] ?? 0) + 1
  }
}
