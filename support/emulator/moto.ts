/**
 * The AWS API emulator for integration and end-to-end tests, the demo and the benchmarks:
 * moto server (pinned in requirements.txt) with server.py's additions, in a Python venv
 * created on first use, on a free loopback port.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ensureEmulatorInstalled, PYTHON, ROOT } from './install.mjs'

export { ensureEmulatorInstalled, ROOT }
const HERE = dirname(fileURLToPath(import.meta.url))

/** Environment for SDK clients and bundles pointed at the emulator. */
export function emulatorEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolvePort(port))
    })
  })
}

export interface Emulator {
  endpoint: string
  env: Record<string, string>
  /**
   * EMULATOR_ROOT: the directory holding each exec host's code volume directory
   * (`<root>/<instance-id>`, see code_volumes.py); emptied by reset, removed by stop.
   */
  root: string
  reset(): Promise<void>
  /**
   * The next `times` successful calls of `action` (say PutParameter) take effect, then answer
   * HTTP 500, which the SDK retries: a call whose answer was lost (lost_answers.py).
   */
  loseAnswer(action: string, times?: number): Promise<void>
  stop(): Promise<void>
}

export async function startEmulator(): Promise<Emulator> {
  ensureEmulatorInstalled()
  for (let attempt = 1; ; attempt++) {
    const port = await freePort()
    const root = mkdtempSync(join(tmpdir(), 'emulator-root-'))
    const child = spawn(PYTHON, [join(HERE, 'server.py'), '-H', '127.0.0.1', '-p', String(port)], {
      env: {
        ...process.env,
        MOTO_EC2_LOAD_DEFAULT_AMIS: 'false',
        PYTHONUNBUFFERED: '1',
        EMULATOR_ROOT: root
      },
      stdio: ['ignore', 'ignore', 'pipe']
    })
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000)
    })
    const endpoint = `http://127.0.0.1:${port}`
    if (await waitReady(endpoint, child)) {
      return {
        endpoint,
        env: emulatorEnv(endpoint),
        root,
        reset: async () => {
          const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' })
          if (!res.ok) throw new Error(`Emulator reset failed: HTTP ${res.status}`)
        },
        loseAnswer: async (action, times = 1) => {
          const res = await fetch(`${endpoint}/emulator-api/lose-answer`, {
            method: 'POST',
            body: JSON.stringify({ action, times })
          })
          if (!res.ok) throw new Error(`Emulator lose-answer failed: HTTP ${res.status}`)
        },
        stop: async () => {
          await stopChild(child)
          rmSync(root, { recursive: true, force: true })
        }
      }
    }
    await stopChild(child)
    rmSync(root, { recursive: true, force: true })
    if (attempt >= 3) throw new Error(`The emulator did not start on ${endpoint}:\n${stderr}`)
  }
}

async function waitReady(endpoint: string, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false
    try {
      const res = await fetch(`${endpoint}/moto-api/`)
      if (res.ok) return true
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return false
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolveStop) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolveStop()
    child.once('exit', () => resolveStop())
    child.kill('SIGTERM')
    setTimeout(() => child.kill('SIGKILL'), 3000).unref()
  })
}
