/**
 * releases: a release built once on the runner and shipped (issue 16) against building on each
 * host; the rollback switch against one command round trip; S3 requests per deploy. On HOSTS
 * exec hosts of the emulator: each command is a real bash process per host, its code volume a
 * directory, the artifact fetched with curl through a real presigned URL from the emulator's S3,
 * checked and unpacked. Everything goes through runRolloutFlow (the hosts' part of a deploy; the
 * snapshot and publish that follow are the same either way), canary 1 then the rest, at the
 * production polling pace, on the real clock.
 *
 * What is simulated, and why:
 * - The build: a fixed BUILD_MS (`sleep`, 5 s by default, BENCH_BUILD_MS) then writing its
 *   output, 200 files of 25 kB (4.9 MB) of random bytes. The cost is a sleep, not CPU work,
 *   because the emulated hosts share this machine's cores while real hosts each have their own:
 *   CPU work would serialise the hosts' builds here and flatter the artifact. Random bytes do not
 *   compress, so the artifact is as big as its files (the worst case for the transfer). Building
 *   on each host pays the build on every host (and, with a canary, twice in a row); the artifact
 *   pays it once, on the runner, then each host fetches, checks (SHA-256), unpacks and switches.
 *   A host build's `git fetch` of the sources is not simulated (it would add to that side).
 * - `activate` (say `systemctl reload app`): `sleep 0.2`, in every variant.
 *
 * Targets:
 * - Per host, fetch + check + unpack + switch + activate takes less than the build; the whole
 *   fleet, runner build included, deploys faster than building on each host, with no build on
 *   any serving host.
 * - Rollback (`rollback-to: previous`, the switch) ≤ 2x one command round trip + activate: a
 *   no-op command through the same flow on the same fleet, plus activate once per wave.
 * - A re-run of the same bytes uploads nothing (no PutObject); no host downloads it again.
 *
 * BENCH_RUNS repeats the whole (default 1; each run also times the rollback SWITCHES times);
 * BENCH_RELEASE_HOSTS sets the fleet (default 6).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetCommandInvocationCommand } from '@aws-sdk/client-ssm'
import { runRolloutFlow, type RolloutFlowOptions } from '../src/flows/rollout.js'
import { mapStateProvider } from '../src/held/journal.js'
import { parseReleaseLine } from '../src/release/host-script.js'
import type { ReleaseOptions } from '../src/release/rollout-scripts.js'
import type { ReleaseSettings, StoreSettings } from '../src/release/ship.js'
import { buildScript } from '../src/rollout/script.js'
import type { RolloutResult } from '../src/rollout/types.js'
import { makeRuntime } from '../src/runtime.js'
import { createBucket } from '../support/emulator/s3.js'
import {
  codeVolumeWorld,
  type CodeVolumeWorld,
  finishedInvocation,
  runScript,
  type TestClients,
  testClients
} from '../support/emulator/world.js'
import { rolloutSettings } from '../support/fixtures.js'
import { max, median, min, printTable, timed, withEmulator } from './lib.js'

const RUNS = Number(process.env['BENCH_RUNS'] ?? 1)
const HOSTS = Number(process.env['BENCH_RELEASE_HOSTS'] ?? 6)
const BUILD_MS = Number(process.env['BENCH_BUILD_MS'] ?? 5000)
/** Rollbacks (and no-op round trips, interleaved) timed per run. */
const SWITCHES = 3
const FILES = 200
const FILE_BYTES = 25 * 1024
const ACTIVATE_MS = 200
const ACTIVATE = `sleep ${ACTIVATE_MS / 1000}`
const MOUNT = '/srv/app'
const BUCKET = 'bench-releases'
const STORE: StoreSettings = {
  bucket: BUCKET,
  prefix: 'ebs-autoscale',
  fetch: 'presigned-url',
  urlLifetimeSeconds: 900
}
const COMMIT = {
  a: 'aaaaaaa1111111111111111111111111111111aa',
  b: 'bbbbbbb2222222222222222222222222222222bb'
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The runner's build: the fixed cost, then the output files (in 10 folders of 20). */
async function buildOnRunner(work: string, name: string): Promise<string> {
  const dir = join(work, `build-${name}`)
  await sleep(BUILD_MS)
  for (let i = 0; i < FILES; i++) {
    const folder = join(dir, 'assets', `d${String(i % 10).padStart(2, '0')}`)
    mkdirSync(folder, { recursive: true })
    writeFileSync(join(folder, `f${String(i).padStart(3, '0')}.bin`), randomBytes(FILE_BYTES))
  }
  writeFileSync(join(dir, 'VERSION'), `${name}\n`)
  return dir
}

/** The same build as each host's commands: the fixed cost, the same files, then activate. */
const HOST_BUILD = [
  `sleep ${BUILD_MS / 1000}`,
  `dir=${MOUNT}/host-build/$EMULATOR_INSTANCE_ID-$$`,
  'for d in $(seq -w 0 9); do mkdir -p "$dir/assets/d$d"; done',
  `head -c ${FILES * FILE_BYTES} /dev/urandom | split -a 3 -d -b ${FILE_BYTES} - "$dir/assets/f"`,
  'printf "host\\n" > "$dir/VERSION"',
  ACTIVATE
].join('\n')

const script = (work: string, commands: string) =>
  buildScript({ commands, logName: 'deploy', logDirectory: join(work, 'logs') })

const rolloutOf = (lines: string[]) => rolloutSettings({ script: lines, hostTimeoutMs: 120_000 })

function flow(w: CodeVolumeWorld, extra: Partial<RolloutFlowOptions> = {}): RolloutFlowOptions {
  return {
    hosts: { query: { tags: new Map(), states: ['running'], asgNames: [w.asgName] } },
    rollout: rolloutSettings({ script: [], hostTimeoutMs: 120_000 }),
    traffic: { targetGroups: { auto: false, given: [] } },
    ...extra
  }
}

function shipping(work: string, artifact: string, commit: string): ReleaseOptions {
  return {
    settings: {
      mountPoint: MOUNT,
      keepReleases: 5,
      activate: ACTIVATE,
      artifact,
      store: STORE,
      tempDirectory: work
    },
    commit,
    commands: { commands: '', logName: 'deploy', logDirectory: join(work, 'logs') }
  }
}

const ROLLBACK: ReleaseSettings = {
  mountPoint: MOUNT,
  keepReleases: 5,
  activate: ACTIVATE,
  store: STORE
}

interface FlowRun {
  wallMs: number
  /** Each host's time on the host (its invocation's ExecutionElapsedTime). */
  hostMs: number[]
  s3Requests: Record<string, number>
  uploaded?: boolean
  /** Hosts whose script fetched the artifact (not a release they held). */
  downloads: number
}

async function runFlow(c: TestClients, options: RolloutFlowOptions): Promise<FlowRun> {
  const { ms, value } = await timed(() =>
    runRolloutFlow(c, options, makeRuntime(), mapStateProvider())
  )
  failIfNot(value.rollout)
  const lines = value.rollout.results.map((r) =>
    parseReleaseLine(`${r.stdoutTail ?? ''}\n${r.stderrTail ?? ''}`)
  )
  return {
    wallMs: ms,
    hostMs: await hostTimes(c, value.rollout),
    s3Requests: value.release?.s3Requests ?? {},
    ...(value.release?.uploaded !== undefined ? { uploaded: value.release.uploaded } : {}),
    downloads: options.release ? lines.filter((l) => l?.reused === false).length : 0
  }
}

function failIfNot(rollout: RolloutResult): void {
  if (rollout.ok) return
  const why = rollout.results.map((r) => `${r.instanceId} ${r.status}: ${r.stderrTail ?? ''}`)
  throw new Error(`bench rollout failed: ${rollout.stoppedReason ?? ''}\n${why.join('\n')}`)
}

/** The emulator fills ExecutionElapsedTime (PT1.234S) from the host's process: its own time. */
async function hostTimes(c: TestClients, rollout: RolloutResult): Promise<number[]> {
  const times: number[] = []
  for (const r of rollout.results) {
    const inv = await c.ssm.send(
      new GetCommandInvocationCommand({ CommandId: r.commandId!, InstanceId: r.instanceId })
    )
    times.push(Number(/^PT([\d.]+)S$/.exec(inv.ExecutionElapsedTime ?? '')?.[1] ?? NaN) * 1000)
  }
  return times
}

/** One SendCommand of `true` to every host, polled every 50 ms until the last ends. */
async function rawRoundTrip(c: TestClients, ids: string[]): Promise<number> {
  const { ms } = await timed(async () => {
    const commandId = await runScript(c.ssm, ids, ['true'])
    await Promise.all(ids.map((id) => finishedInvocation(c.ssm, commandId, id)))
  })
  return ms
}

interface Sample {
  hostBuild: FlowRun
  first: FlowRun
  rerun: FlowRun
  next: FlowRun
  runnerBuildMs: number
  rollback: FlowRun[]
  noop: FlowRun[]
  rawMs: number[]
}

async function once(endpoint: string, work: string): Promise<Sample> {
  const c = testClients(endpoint)
  await createBucket(endpoint, BUCKET)
  const w = await codeVolumeWorld(c, { size: HOSTS, execMountPoint: MOUNT })
  const built = await timed(() => buildOnRunner(work, 'a'))
  const first = await runFlow(c, flow(w, { release: shipping(work, built.value, COMMIT.a) }))
  const hostBuild = await runFlow(c, flow(w, { rollout: rolloutOf(script(work, HOST_BUILD)) }))
  const rerun = await runFlow(c, flow(w, { release: shipping(work, built.value, COMMIT.a) }))
  writeFileSync(join(built.value, 'VERSION'), 'b\n')
  const next = await runFlow(c, flow(w, { release: shipping(work, built.value, COMMIT.b) }))
  const sample: Sample = {
    hostBuild,
    first,
    rerun,
    next,
    runnerBuildMs: built.ms,
    rollback: [],
    noop: [],
    rawMs: []
  }
  // Interleaved, so drift hits each alike; each rollback switches to the other release.
  for (let i = 0; i < SWITCHES; i++) {
    const target = { kind: 'previous' } as const
    sample.rollback.push(await runFlow(c, flow(w, { rollbackTo: { target, settings: ROLLBACK } })))
    sample.noop.push(await runFlow(c, flow(w, { rollout: rolloutOf(script(work, 'true')) })))
    sample.rawMs.push(await rawRoundTrip(c, w.instanceIds))
  }
  return sample
}

const s = (ms: number) => (ms / 1000).toFixed(2)
const spread = (values: number[]) =>
  values.length > 1 ? `${s(median(values))} (${s(min(values))}-${s(max(values))})` : s(values[0]!)

export async function run(): Promise<void> {
  console.log(
    `\n## releases: ${HOSTS} exec hosts, canary 1 then the rest, production polling pace; build ${BUILD_MS / 1000} s (simulated) + ${FILES} files, ${((FILES * FILE_BYTES) / 1024 / 1024).toFixed(1)} MB; activate ${ACTIVATE_MS / 1000} s; ${RUNS} run(s)\n`
  )
  const samples: Sample[] = []
  await withEmulator(async (emulator) => {
    for (let i = 0; i < RUNS; i++) {
      await emulator.reset()
      const work = mkdtempSync(join(tmpdir(), 'bench-releases-'))
      try {
        samples.push(await once(emulator.endpoint, work))
      } finally {
        rmSync(work, { recursive: true, force: true })
      }
    }
  })
  deployTable(samples)
  rollbackTable(samples)
  requestsTable(samples)
}

function deployTable(samples: Sample[]): void {
  const all = (pick: (x: Sample) => FlowRun) => ({
    host: samples.flatMap((x) => pick(x).hostMs),
    wall: samples.map((x) => pick(x).wallMs)
  })
  const runner = samples.map((x) => x.runnerBuildMs)
  const row = (way: string, builds: string, pick: (x: Sample) => FlowRun, runnerMs?: number[]) => {
    const { host, wall } = all(pick)
    const total = runnerMs ? samples.map((x, i) => pick(x).wallMs + runnerMs[i]!) : wall
    return [
      way,
      builds,
      s(median(host)),
      s(max(host)),
      spread(wall),
      runnerMs ? spread(runnerMs) : '–',
      spread(total)
    ]
  }
  printTable(
    [
      'deploy',
      'builds',
      'per host s (median)',
      'per host s (max)',
      'fleet s',
      'runner build s',
      'total s'
    ],
    [
      row('build on each host', `${HOSTS}, on the hosts`, (x) => x.hostBuild),
      row('artifact, first deploy', '1, on the runner', (x) => x.first, runner),
      row('artifact, re-run (same bytes)', '0 (reused)', (x) => x.rerun),
      row('artifact, next release', '1, on the runner', (x) => x.next, runner)
    ]
  )
}

function rollbackTable(samples: Sample[]): void {
  const rollback = samples.flatMap((x) => x.rollback)
  const noop = samples.flatMap((x) => x.noop)
  const raw = samples.flatMap((x) => x.rawMs)
  // The activate runs once per wave (canary, then the rest), one wave after the other.
  const activate = 2 * ACTIVATE_MS
  const baseline = median(noop.map((r) => r.wallMs)) + activate
  printTable(
    ['fleet', 'wall s, median (range)', 'per host s (median)', 'ratio to no-op + activate'],
    [
      [
        'rollback-to previous (switch + activate)',
        spread(rollback.map((r) => r.wallMs)),
        s(median(rollback.flatMap((r) => r.hostMs))),
        (median(rollback.map((r) => r.wallMs)) / baseline).toFixed(2)
      ],
      [
        'no-op command through the flow',
        spread(noop.map((r) => r.wallMs)),
        s(median(noop.flatMap((r) => r.hostMs))),
        '–'
      ],
      [`no-op + activate (2 waves x ${ACTIVATE_MS / 1000} s)`, s(baseline), '–', '1.00'],
      ['one SendCommand to all, polled every 50 ms', spread(raw), '–', '–']
    ]
  )
}

function requestsTable(samples: Sample[]): void {
  const x = samples[0]!
  const row = (deploy: string, r: FlowRun) => {
    const apis = Object.entries(r.s3Requests).sort(([a], [b]) => a.localeCompare(b))
    return [
      deploy,
      apis.map(([api, n]) => `${api} ${n}`).join(', ') || 'none',
      String(apis.reduce((sum, [, n]) => sum + n, 0)),
      r.uploaded ? 'yes' : 'no',
      String(r.downloads)
    ]
  }
  printTable(
    ['deploy', 'S3 requests from the runner', 'total', 'uploaded', 'hosts downloading (GET)'],
    [
      row('first deploy', x.first),
      row('re-run, same commit and bytes', x.rerun),
      row('next release (one file changed)', x.next)
    ]
  )
}
