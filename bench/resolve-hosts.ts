/**
 * resolve-hosts: what the bundle costs over a bare SDK script doing the same calls.
 *   - bundle size of every action's dist/index.js;
 *   - cold start: spawn of `node dist/index.js` to its first AWS request (a local stand-in
 *     notes the arrival), against bare Node and a bare SDK script doing the same first request,
 *     and the same for the rollout, snapshot and deploy bundles (their first request, whatever it is);
 *   - wall time of a resolve over 10 and 1,000 running instances in the emulator (reservations
 *     of 10): the core (resolveHosts with createClients) against a bare EC2Client paginating
 *     the same DescribeInstances calls, in process and as whole processes (bundle vs script).
 *
 * Targets: overhead ratio (core wall / bare wall) <= 1.10 at 1,000 instances; cold start
 * about 300 ms.
 */
import { statSync, readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join } from 'node:path'
import { EC2Client, paginateDescribeInstances, RunInstancesCommand } from '@aws-sdk/client-ec2'
import { createClients } from '../src/aws/clients.js'
import { resolveHosts } from '../src/hosts/resolve.js'
import { parseTags } from '../src/actions/shared/parse.js'
import { IMAGE_ID, testClients } from '../support/emulator/world.js'
import {
  bytes,
  heading,
  interleaved,
  max,
  median,
  min,
  ms,
  printTable,
  ratio,
  ROOT,
  runNode,
  StandIn,
  withEmulator,
  type Emulator
} from './lib.js'

const BUNDLE = join(ROOT, 'actions/resolve-hosts/dist/index.js')
const COLD_RUNS = Number(process.env['BENCH_COLD_RUNS'] ?? 9)
const WALL_RUNS = Number(process.env['BENCH_RUNS'] ?? 7)
const SIZES = [10, 1000]
const PER_RESERVATION = 10

const EMPTY_DESCRIBE =
  '<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><reservationSet/></DescribeInstancesResponse>'

const AWS_ENV = {
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true'
}

/** The runner's environment for one step, minus the files (outputs go to a scratch file). */
function runnerEnv(inputs: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {
    GITHUB_ACTIONS: 'true',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_OUTPUT: '/dev/null',
    GITHUB_STEP_SUMMARY: '/dev/null'
  }
  for (const [k, v] of Object.entries(inputs)) env[`INPUT_${k.toUpperCase()}`] = v
  return env
}

const filtersFor = (fleet: string) => [
  { Name: 'tag:Fleet', Values: [fleet] },
  { Name: 'instance-state-name', Values: ['running'] }
]

/** The bare SDK script: the same paginated DescribeInstances calls, nothing else. */
const bareScript = (fleet: string): string => `
import { EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2'
const client = new EC2Client({})
const ids = []
for await (const page of paginateDescribeInstances({ client, pageSize: 1000 }, { Filters: ${JSON.stringify(filtersFor(fleet))} }))
  for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) ids.push(i.InstanceId)
console.log(ids.length)
`

export async function run(): Promise<void> {
  await bundleSize()
  await coldStart()
  await withEmulator(async (emulator) => wallTimes(emulator))
}

async function bundleSize(): Promise<void> {
  heading('Every bundle: size')
  const files = [
    'actions/resolve-hosts/dist/index.js',
    'actions/rollout/dist/index.js',
    'actions/snapshot/dist/index.js',
    'dist/index.js'
  ]
  printTable(
    ['file', 'size', 'gzip'],
    files.map((file) => {
      const path = join(ROOT, file)
      return [file, bytes(statSync(path).size), bytes(gzipSync(readFileSync(path)).length)]
    })
  )
}

async function coldStart(): Promise<void> {
  heading(`Every bundle: cold start to the first AWS request (median of ${COLD_RUNS})`)
  const standIn = await new StandIn(EMPTY_DESCRIBE).start()
  try {
    const env = { ...AWS_ENV, AWS_ENDPOINT_URL: standIn.endpoint }
    const variants: Array<[string, string[], Record<string, string>]> = [
      [
        'bare node (http.get)',
        ['-e', `require('http').get(${JSON.stringify(standIn.endpoint)}, (r) => r.resume())`],
        {}
      ],
      ['bare SDK script (unbundled)', ['--input-type=module', '-e', bareScript('bench')], env],
      [
        'resolve-hosts bundle',
        [BUNDLE],
        { ...env, ...runnerEnv({ tags: 'Fleet=bench', 'fail-if-empty': 'false' }) }
      ],
      [
        'rollout bundle',
        [join(ROOT, 'actions/rollout/dist/index.js')],
        { ...env, ...runnerEnv({ tags: 'Fleet=bench', commands: 'true' }) }
      ],
      [
        'snapshot bundle',
        [join(ROOT, 'actions/snapshot/dist/index.js')],
        { ...env, ...runnerEnv({ 'instance-id': 'i-0123456789abcdef0' }) }
      ],
      [
        'deploy bundle',
        [join(ROOT, 'dist/index.js')],
        { ...env, ...runnerEnv({ tags: 'Fleet=bench', commands: 'true' }) }
      ]
    ]
    const samples: Record<string, { first: number[]; exit: number[] }> = {}
    for (const [name] of variants) samples[name] = { first: [], exit: [] }
    for (let i = 0; i < COLD_RUNS + 1; i++) {
      for (const [name, args, extra] of variants) {
        const before = standIn.arrivals.length
        // Only the first request counts: the larger bundles then fail on the stand-in's answer.
        const r = await runNode(args, extra, { allowFailure: true })
        const arrival = standIn.arrivals[before]
        if (arrival === undefined) throw new Error(`${name} made no request:\n${r.stderr}`)
        if (i === 0) continue // warm the file cache
        samples[name]!.first.push(arrival - r.startedAt)
        samples[name]!.exit.push(r.ms)
      }
    }
    printTable(
      ['process', 'spawn -> first request (median)', 'min', 'max', 'spawn -> exit (median)'],
      Object.entries(samples).map(([name, s]) => [
        name,
        ms(median(s.first)),
        ms(min(s.first)),
        ms(max(s.first)),
        ms(median(s.exit))
      ])
    )
    console.log('Target: about 300 ms from spawn to the first request for each bundle.')
  } finally {
    await standIn.stop()
  }
}

async function seed(endpoint: string, size: number): Promise<void> {
  const { ec2 } = testClients(endpoint)
  for (let left = size; left > 0; left -= PER_RESERVATION) {
    const count = Math.min(PER_RESERVATION, left)
    await ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE_ID,
        MinCount: count,
        MaxCount: count,
        InstanceType: 't3.micro',
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: [
              { Key: 'Fleet', Value: `f${size}` },
              { Key: 'Role', Value: 'app' }
            ]
          }
        ]
      })
    )
  }
}

async function wallTimes(emulator: Emulator): Promise<void> {
  const { endpoint, env: emulatorEnv } = emulator
  heading(
    `resolve-hosts: wall time in the emulator (reservations of ${PER_RESERVATION}, median of ${WALL_RUNS}, interleaved)`
  )
  // createClients takes credentials from the default chain, as in the action: the environment.
  Object.assign(process.env, AWS_ENV)
  const sdkConfig = {
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' }
  }
  const rows: string[][] = []
  for (const size of SIZES) {
    // Each size alone in the emulator: it scans every instance it holds on each call.
    await emulator.reset()
    const seeding = Date.now()
    await seed(endpoint, size)
    console.log(`Seeded ${size} instances in ${((Date.now() - seeding) / 1000).toFixed(1)} s.`)
    const fleet = `f${size}`
    let coreCount = 0
    let bareCount = 0
    let coreCalls = 0
    const inProcess = await interleaved(WALL_RUNS, {
      core: async () => {
        const clients = createClients({ maxAttempts: 5, action: 'bench', endpoint, env: AWS_ENV })
        const r = await resolveHosts(clients, {
          tags: parseTags('tags', `Fleet=${fleet}`),
          states: ['running']
        })
        coreCount = r.hosts.length
        coreCalls = r.calls['DescribeInstances'] ?? 0
      },
      bare: async () => {
        const client = new EC2Client(sdkConfig)
        const ids: string[] = []
        for await (const page of paginateDescribeInstances(
          { client, pageSize: 1000 },
          { Filters: filtersFor(fleet) }
        )) {
          for (const r of page.Reservations ?? [])
            for (const i of r.Instances ?? []) ids.push(i.InstanceId!)
        }
        bareCount = ids.length
      }
    })
    if (coreCount !== size || bareCount !== size) {
      throw new Error(`expected ${size} instances, core found ${coreCount}, bare ${bareCount}`)
    }
    rows.push([
      String(size),
      'in process: core vs bare SDK',
      String(coreCalls),
      ms(median(inProcess['core']!)),
      ms(median(inProcess['bare']!)),
      ratio(median(inProcess['core']!) / median(inProcess['bare']!))
    ])

    let bundleOut = ''
    const processes = await interleaved(Math.max(3, Math.ceil(WALL_RUNS / 2)), {
      bundle: async () => {
        const r = await runNode([BUNDLE], {
          ...emulatorEnv,
          ...runnerEnv({ tags: `Fleet=${fleet}` })
        })
        bundleOut = r.stdout
      },
      bare: async () => {
        const r = await runNode(['--input-type=module', '-e', bareScript(fleet)], emulatorEnv)
        if (r.stdout.trim() !== String(size)) throw new Error(`bare script found ${r.stdout}`)
      }
    })
    if (!bundleOut.includes(`Found ${size} instance(s)`)) {
      throw new Error(`the bundle did not find ${size} instances:\n${bundleOut}`)
    }
    rows.push([
      String(size),
      'whole process: bundle vs bare script',
      String(coreCalls),
      ms(median(processes['bundle']!)),
      ms(median(processes['bare']!)),
      ratio(median(processes['bundle']!) / median(processes['bare']!))
    ])
  }
  console.log('')
  printTable(
    ['instances', 'compared', 'DescribeInstances calls', 'ours', 'bare', 'ratio ours/bare'],
    rows
  )
  console.log('Target: ratio <= 1.10 at 1,000 instances.')
}
