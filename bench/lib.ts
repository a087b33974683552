/** Helpers shared by the benchmark sections: statistics, timing, tables, the emulator. */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { performance } from 'node:perf_hooks'
import { ROOT, startEmulator, type Emulator } from '../support/emulator/moto.js'

export { ROOT, startEmulator, type Emulator }

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

export const min = (values: readonly number[]): number => Math.min(...values)
export const max = (values: readonly number[]): number => Math.max(...values)

/** Milliseconds `fn` took, and what it returned. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now()
  const value = await fn()
  return { ms: performance.now() - start, value }
}

/** Runs each named variant `runs` times, interleaved (a, b, a, b...) so drift hits both alike. */
export async function interleaved(
  runs: number,
  variants: Record<string, () => Promise<unknown>>,
  warmup = 1
): Promise<Record<string, number[]>> {
  const out: Record<string, number[]> = Object.fromEntries(
    Object.keys(variants).map((k) => [k, []])
  )
  for (let i = 0; i < warmup + runs; i++) {
    for (const [name, fn] of Object.entries(variants)) {
      const { ms } = await timed(fn)
      if (i >= warmup) out[name]!.push(ms)
    }
  }
  return out
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : '–')
export const ratio = (v: number): string => (Number.isFinite(v) ? v.toFixed(2) : '–')
export const bytes = (n: number): string =>
  n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(2)} MB` : `${(n / 1024).toFixed(1)} kB`

/** A Markdown table, columns padded so it reads well in a terminal too. */
export function printTable(
  header: readonly string[],
  rows: ReadonlyArray<readonly string[]>
): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  console.log(line(header))
  console.log(`| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`)
  for (const r of rows) console.log(line(r))
  console.log('')
}

export function heading(title: string): void {
  console.log(`\n## ${title}\n`)
}

/** Starts the emulator for `fn` and always stops it. */
export async function withEmulator<T>(fn: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startEmulator()
  try {
    return await fn(emulator)
  } finally {
    await emulator.stop()
  }
}

/**
 * A local HTTP server standing in for AWS: it notes when each request arrives (on this
 * process's performance clock) and answers `body`.
 */
export class StandIn {
  readonly arrivals: number[] = []
  private server: Server | undefined
  endpoint = ''

  constructor(private readonly body: string) {}

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.arrivals.push(performance.now())
      req.resume()
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml' })
        res.end(this.body)
      })
    })
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r))
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  async stop(): Promise<void> {
    await new Promise((r) => this.server?.close(r))
  }
}

/** Runs `node args...` to its end; rejects on a non-zero exit unless `allowFailure`. */
export function runNode(
  args: readonly string[],
  env: Record<string, string>,
  options: { cwd?: string; allowFailure?: boolean } = {}
): Promise<{ code: number; stdout: string; stderr: string; startedAt: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now()
    const child = spawn(process.execPath, [...args], {
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', ...env },
      cwd: options.cwd ?? ROOT
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const ms = performance.now() - startedAt
      if (code !== 0 && !options.allowFailure) {
        reject(new Error(`node ${args.join(' ')} exited ${code}:\n${stderr}\n${stdout}`))
      } else resolve({ code: code ?? -1, stdout, stderr, startedAt, ms })
    })
  })
}
