/**
 * S3 against the emulator, for tests of what hosts download. The project has no S3 client
 * (@aws-sdk/client-s3 and @aws-sdk/s3-request-presigner are not dependencies), so requests are
 * signed here with @smithy/signature-v4, the signer every SDK client uses (installed as theirs):
 * the same SigV4 query presigning as @aws-sdk/s3-request-presigner. Path-style URLs, as an
 * IP-address endpoint needs.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type { SourceData } from '@smithy/types'

/** The emulator's tag that makes a GET break off half-way (s3_cutoff.py). */
export const CUT_OFF_TAG = 'emulator:cut-off'

const bytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength)

class Sha256 {
  private hash: Hash | Hmac
  constructor(private readonly secret?: SourceData) {
    this.hash = this.fresh()
  }
  private fresh(): Hash | Hmac {
    return this.secret ? createHmac('sha256', bytes(this.secret)) : createHash('sha256')
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data))
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest())
  }
  reset(): void {
    this.hash = this.fresh()
  }
}

const signer = new SignatureV4({
  service: 's3',
  region: 'us-east-1',
  credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  sha256: Sha256,
  uriEscapePath: false
})

function request(
  endpoint: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: Uint8Array
) {
  const url = new URL(endpoint)
  return {
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port ? { port: Number(url.port) } : {}),
    path,
    query: {},
    headers: { host: url.host, ...headers },
    ...(body ? { body } : {})
  }
}

const objectPath = (bucket: string, key: string) =>
  `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`

async function send(endpoint: string, req: ReturnType<typeof request>): Promise<Response> {
  const signed = await signer.sign(req)
  const res = await fetch(`${endpoint}${req.path}`, {
    method: req.method,
    headers: signed.headers,
    ...(req.body ? { body: req.body } : {})
  })
  if (!res.ok)
    throw new Error(`S3 ${req.method} ${req.path}: HTTP ${res.status} ${await res.text()}`)
  return res
}

export async function createBucket(endpoint: string, bucket: string): Promise<void> {
  await send(endpoint, request(endpoint, 'PUT', `/${bucket}`))
}

/**
 * Stores `body` at bucket/key. `cutOff`: every GET of it sends the full Content-Length but only
 * the first half of the bytes (or the first `cutOff` bytes), then closes the connection.
 */
export async function putObject(
  endpoint: string,
  bucket: string,
  key: string,
  body: Uint8Array | string,
  options: { cutOff?: true | number } = {}
): Promise<void> {
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
  const headers: Record<string, string> = {
    'x-amz-content-sha256': createHash('sha256').update(bytes).digest('hex'),
    'content-length': String(bytes.length)
  }
  if (options.cutOff !== undefined) {
    const value = options.cutOff === true ? 'half' : String(options.cutOff)
    headers['x-amz-tagging'] = `${encodeURIComponent(CUT_OFF_TAG)}=${value}`
  }
  await send(endpoint, request(endpoint, 'PUT', objectPath(bucket, key), headers, bytes))
}

/** A presigned GET URL for bucket/key, as @aws-sdk/s3-request-presigner makes it. */
export async function presignGet(
  endpoint: string,
  bucket: string,
  key: string,
  expiresIn = 900
): Promise<string> {
  const signed = await signer.presign(request(endpoint, 'GET', objectPath(bucket, key)), {
    expiresIn
  })
  const query = new URLSearchParams()
  for (const [name, value] of Object.entries(signed.query ?? {})) {
    for (const v of Array.isArray(value) ? value : [value]) query.append(name, String(v))
  }
  return `${endpoint}${signed.path}?${query.toString()}`
}
