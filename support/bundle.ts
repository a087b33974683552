/**
 * Runs a committed bundle the way the GitHub runner does: `node dist/index.js` with INPUT_*
 * variables, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY / GITHUB_STATE files, and its exit code.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './emulator/moto.js'

export interface BundleRun {
  exitCode: number
  outputs: Record<string, string>
  state: Record<string, string>
  summary: string
  stdout: string
  stderr: string
}

export const BUNDLES = {
  'resolve-hosts': join(ROOT, 'actions/resolve-hosts/dist/index.js'),
  rollout: join(ROOT, 'actions/rollout/dist/index.js'),
  snapshot: join(ROOT, 'actions/snapshot/dist/index.js'),
  deploy: join(ROOT, 'dist/index.js')
} as const

/** Parses the `name<<delimiter` format @actions/core writes to GITHUB_OUTPUT and GITHUB_STATE. */
export function parseCommandFile(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!)
    if (!m) continue
    const [, name, delimiter] = m
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(lines[i]!)
    out[name!] = value.join('\n')
  }
  return out
}

/** Something a test does while the bundle runs, when a text first appears in its output. */
export interface OutputTrigger {
  when: string
  run: (child: ChildProcess) => void | Promise<void>
}

export async function runBundle(
  bundle: string,
  inputs: Record<string, string>,
  env: Record<string, string>,
  options: {
    state?: Record<string, string>
    timeoutMs?: number
    /**
     * Acts once stdout shows `when`: a signal (the runner cancelling the job, or dying), or
     * anything else that should happen mid-run (an Auto Scaling group scaling out).
     */
    /** Each runs once, the first time its text appears in stdout. */
    onOutput?: OutputTrigger | readonly OutputTrigger[]
  } = {}
): Promise<BundleRun> {
  const dir = mkdtempSync(join(tmpdir(), 'ebs-autoscale-e2e-'))
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_STATE: join(dir, 'state')
  }
  for (const f of Object.values(files)) writeFileSync(f, '')
  const inputEnv: Record<string, string> = {}
  for (const [name, value] of Object.entries(inputs)) {
    inputEnv[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] = value
  }
  const stateEnv: Record<string, string> = {}
  for (const [name, value] of Object.entries(options.state ?? {})) stateEnv[`STATE_${name}`] = value
  const childEnv: Record<string, string> = {
    PATH: process.env['PATH'] ?? '',
    HOME: process.env['HOME'] ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/shop',
    GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_ACTOR: 'octocat',
    RUNNER_TEMP: dir,
    ...files,
    ...env,
    ...inputEnv,
    ...stateEnv
  }
  try {
    const { exitCode, stdout, stderr } = await new Promise<{
      exitCode: number
      stdout: string
      stderr: string
    }>((resolve, reject) => {
      const child = spawn(process.execPath, [bundle], { env: childEnv, cwd: dir })
      let stdout = ''
      let stderr = ''
      const pending = [options.onOutput ?? []].flat()
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString()
        for (const trigger of pending.filter((t) => stdout.includes(t.when))) {
          pending.splice(pending.indexOf(trigger), 1)
          void Promise.resolve(trigger.run(child)).catch(reject)
        }
      })
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
      child.on('error', reject)
      child.on('close', (code) => {
        clearTimeout(timer)
        resolve({ exitCode: code ?? -1, stdout, stderr })
      })
    })
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseCommandFile(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      state: parseCommandFile(readFileSync(files.GITHUB_STATE, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** The `::error::` lines a run printed (annotations), without the command prefix. */
export function annotations(stdout: string, level: 'error' | 'warning'): string[] {
  return stdout
    .split('\n')
    .filter((l) => l.startsWith(`::${level}`))
    .map((l) =>
      l
        .replace(/^::[a-z]+[^:]*::/, '')
        .replace(/%0A/g, '\n')
        .replace(/%25/g, '%')
    )
}
