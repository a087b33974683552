/**
 * The artifact store against a mocked S3: one upload per content, presigned URLs per host, the
 * instance-role alternative, and errors naming the API.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException
} from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createS3Client } from '../../src/aws/clients.js'
import { type Artifact, hashFile } from '../../src/release/artifact.js'
import { ArtifactStore, artifactKey, validatePrefix } from '../../src/release/store.js'

const s3 = new S3Client({
  region: 'eu-west-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }
})
const s3Mock = mockClient(s3)
let dir: string
let artifact: Artifact

const notFound = (): S3ServiceException =>
  new S3ServiceException({
    name: 'NotFound',
    $fault: 'client',
    $metadata: { httpStatusCode: 404 },
    message: 'UnknownError'
  })

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'release-store-'))
  const path = join(dir, 'app.tar.gz')
  writeFileSync(path, Buffer.from([0x1f, 0x8b, 1, 2, 3]))
  artifact = { path, ...(await hashFile(path)), packed: false }
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))
beforeEach(() => {
  s3Mock.reset()
})

describe('ArtifactStore.upload', () => {
  it('uploads nothing when HeadObject finds the same content under its key', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: artifact.size })
    const store = new ArtifactStore(s3, { bucket: 'acme-releases', prefix: '/web/prod/' })
    const stored = await store.upload(artifact)
    expect(stored).toEqual({
      bucket: 'acme-releases',
      key: `web/prod/${artifact.sha256}.tar.gz`,
      sha256: artifact.sha256,
      size: 5,
      uploaded: false
    })
    expect(s3Mock).toHaveReceivedCommandWith(HeadObjectCommand, {
      Bucket: 'acme-releases',
      Key: `web/prod/${artifact.sha256}.tar.gz`
    })
    expect(s3Mock).not.toHaveReceivedCommand(PutObjectCommand)
    expect(store.requests).toEqual({ HeadObject: 1 })
  })

  it('puts it, with its length and SHA-256 for S3 to check, when absent', async () => {
    s3Mock.on(HeadObjectCommand).rejects(notFound())
    s3Mock.on(PutObjectCommand).resolves({})
    const store = new ArtifactStore(s3, { bucket: 'acme-releases' })
    const stored = await store.upload(artifact)
    expect(stored.uploaded).toBe(true)
    expect(stored.key).toBe(`${artifact.sha256}.tar.gz`)
    expect(s3Mock).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: 'acme-releases',
      Key: `${artifact.sha256}.tar.gz`,
      ContentLength: 5,
      ContentType: 'application/gzip',
      ChecksumSHA256: Buffer.from(artifact.sha256, 'hex').toString('base64'),
      Metadata: { sha256: artifact.sha256 }
    })
    expect(store.requests).toEqual({ HeadObject: 1, PutObject: 1 })
  })

  it('replaces an object of another size under the key (never trusts a wrong one)', async () => {
    s3Mock.on(HeadObjectCommand).resolves({ ContentLength: 3 })
    s3Mock.on(PutObjectCommand).resolves({})
    const stored = await new ArtifactStore(s3, { bucket: 'acme-releases' }).upload(artifact)
    expect(stored.uploaded).toBe(true)
    expect(s3Mock).toHaveReceivedCommandTimes(PutObjectCommand, 1)
  })

  it('names the API in errors, with the ListBucket hint for a 403 on HeadObject', async () => {
    s3Mock.on(HeadObjectCommand).rejects(
      new S3ServiceException({
        name: 'Forbidden',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: 'Forbidden'
      })
    )
    const store = new ArtifactStore(s3, { bucket: 'acme-releases' })
    await expect(store.upload(artifact)).rejects.toThrow(
      'HeadObject failed: Forbidden: Forbidden. Hint: S3 answers 403 for a missing key when the role may not list the bucket; grant s3:ListBucket on the bucket (the prefix) besides s3:GetObject and s3:PutObject on the prefix'
    )
    s3Mock.on(HeadObjectCommand).rejects(notFound())
    s3Mock.on(PutObjectCommand).rejects(
      new S3ServiceException({
        name: 'BadDigest',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
        message: 'The SHA256 you specified did not match the calculated checksum.'
      })
    )
    await expect(store.upload(artifact)).rejects.toThrow(
      'PutObject failed: BadDigest: The SHA256 you specified did not match the calculated checksum.'
    )
  })
})

describe('ArtifactStore.source', () => {
  it('presigns a GET of the key, valid for 15 minutes by default, one per call', async () => {
    const store = new ArtifactStore(s3, { bucket: 'acme-releases', prefix: 'web' })
    const source = await store.source({ key: 'web/abc.tar.gz' })
    expect(source.kind).toBe('url')
    const url = new URL(source.kind === 'url' ? source.url : '')
    expect(url.hostname).toBe('acme-releases.s3.eu-west-1.amazonaws.com')
    expect(url.pathname).toBe('/web/abc.tar.gz')
    expect(url.searchParams.get('X-Amz-Expires')).toBe('900')
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/)
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^AKIDEXAMPLE\//)
    expect(s3Mock).not.toHaveReceivedCommand(GetObjectCommand) // signed locally, nothing sent
    const short = new ArtifactStore(s3, { bucket: 'acme-releases', urlLifetimeSeconds: 120 })
    const other = await short.source({ key: 'abc.tar.gz' })
    expect(other.kind === 'url' && new URL(other.url).searchParams.get('X-Amz-Expires')).toBe('120')
  })

  it('gives an s3:// location and the region instead in instance-role mode', async () => {
    const store = new ArtifactStore(s3, { bucket: 'acme-releases', mode: 'instance-role' })
    expect(await store.source({ key: 'web/abc.tar.gz' })).toEqual({
      kind: 's3',
      uri: 's3://acme-releases/web/abc.tar.gz',
      region: 'eu-west-1'
    })
  })

  it('addresses the bucket by path through an endpoint (the emulator)', async () => {
    // The default credential chain reads the process environment.
    const saved = { ...process.env }
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' })
    const client = createS3Client({
      region: 'us-east-1',
      maxAttempts: 1,
      action: 'deploy',
      endpoint: 'http://127.0.0.1:4566',
      env: {}
    })
    const store = new ArtifactStore(client, { bucket: 'acme-releases' })
    const source = await store.source({ key: 'k.tar.gz' }).finally(() => {
      process.env = saved
    })
    expect(source.kind === 'url' && source.url).toMatch(
      /^http:\/\/127\.0\.0\.1:4566\/acme-releases\/k\.tar\.gz\?/
    )
  })
})

describe('store options', () => {
  it('refuses a bad bucket, prefix or lifetime, naming the input', () => {
    expect(() => new ArtifactStore(s3, { bucket: 'Acme_Releases' })).toThrow(
      'Setting "artifactBucket": "Acme_Releases" is not an S3 bucket name. Expected 3 to 63 lowercase letters, digits, dots and hyphens.'
    )
    expect(() => validatePrefix('web/../etc')).toThrow(
      'Setting "artifactPrefix": "web/../etc" is not a usable key prefix.'
    )
    expect(() => validatePrefix('web prod')).toThrow('Setting "artifactPrefix"')
    expect(validatePrefix('/releases/web/')).toBe('releases/web')
    expect(artifactKey('', 'ab')).toBe('ab.tar.gz')
    expect(
      () => new ArtifactStore(s3, { bucket: 'acme-releases', urlLifetimeSeconds: 8 * 86400 })
    ).toThrow("urlLifetimeSeconds must be at most 7 days (S3's limit), not 691200")
  })
})
