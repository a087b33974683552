/**
 * The deploy's critical path: with consistency: sync the flush is the last step of the primary's
 * own last command (no separate `sync` command through SSM), the snapshot starts only once that
 * command (and run-once) succeeded, and the hops on the path are polled tightly.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { mockAws, scriptedFleet } from '../../support/scripted-deploy.js'
import { spawnSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runDeploy } from '../../src/flows/deploy.js'
import { makeRuntime } from '../../src/runtime.js'
import { type Backoff, CRITICAL_BACKOFF, poll } from '../../src/poll.js'
import { buildScript, flushStep } from '../../src/rollout/script.js'
import { RecordingLog } from '../helpers/log.js'
import { SimulatedEc2 } from '../../support/ec2-world.js'
import { SimulatedFleet, VirtualClock } from '../../support/ssm-fleet.js'
import { deployOptions } from '../../support/fixtures.js'
import type { DeployOptions } from '../../src/deploy/types.js'

const aws = mockAws()
const { clients } = aws
const IDS = SimulatedFleet.ids(4)
const COMMAND_MS = 4_000
const SNAPSHOT_MS = 6_000
const FLUSH = "sync -f '/srv/app' 2>/dev/null || sync"
const COMMANDS = buildScript({ commands: './deploy', logName: 'commands' })
const RUN_ONCE = buildScript({ commands: 'rake db:migrate', logName: 'run-once' })

function withSync(extra: Partial<DeployOptions> = {}): DeployOptions {
  const base = deployOptions()
  return deployOptions({
    rollout: { ...base.rollout, script: COMMANDS },
    snapshot: { ...base.snapshot, consistency: { mode: 'sync', mountPoint: '/srv/app' } },
    ...extra
  })
}

describe("the deploy's critical path", () => {
  let clock: VirtualClock
  let world: SimulatedEc2
  let fleet: SimulatedFleet
  beforeEach(() => {
    ;({ clock, world, fleet } = scriptedFleet(aws, {
      ids: IDS,
      commandMs: COMMAND_MS,
      snapshotMs: SNAPSHOT_MS
    }))
  })

  it('flushes at the end of the primary’s own command, sends no separate sync, and publishes near the bound', async () => {
    const start = clock.now()
    const log = new RecordingLog()
    const result = await runDeploy(clients, withSync(), makeRuntime({ clock, log }))
    expect(result.ok).toBe(true)
    expect(result.publish!.snapshot.consistency).toBe('sync')

    // The primary's one command is its commands, then the flush; nobody else flushes.
    const [primaryScript, ...more] = fleet.scriptsFor(IDS[0]!)
    expect(more).toEqual([])
    expect(primaryScript).toBe([...COMMANDS, ...flushStep('/srv/app')].join('\n'))
    expect(
      primaryScript!.endsWith(
        `${FLUSH}\nprintf '%s\\n' 'ebs-autoscale: flushed /srv/app for the snapshot'`
      )
    ).toBe(true)
    for (const id of IDS.slice(1)) expect(fleet.scriptsFor(id)).toEqual([COMMANDS.join('\n')])
    // One command for the primary, one for the fleet: no `sync` command of its own.
    expect(fleet.commands).toHaveLength(2)
    expect(log.messages('info')).toContain(
      `Flushed /srv/app on ${IDS[0]} as the last step of its command (sync).`
    )

    // The snapshot starts right after the primary's command ends, and is seen completed at once.
    const snapshotAt = world.firstCall('CreateSnapshot')!
    expect(snapshotAt).toBeGreaterThanOrEqual(start + COMMAND_MS)
    expect(snapshotAt - (start + COMMAND_MS)).toBeLessThanOrEqual(250)
    const publishedAt = world.firstCall('CreateLaunchTemplateVersion')!
    const bound = COMMAND_MS + SNAPSHOT_MS
    expect(publishedAt - start).toBeGreaterThanOrEqual(bound)
    expect((publishedAt - start) / bound).toBeLessThanOrEqual(1.1)
  })

  it('with run-once, flushes at the end of run-once and snapshots only after it succeeded', async () => {
    fleet.setHost(IDS[0]!, {
      durationMs: COMMAND_MS,
      scripts: { 'rake db:migrate': { durationMs: 2_000 } }
    })
    const base = withSync()
    const result = await runDeploy(
      clients,
      withSync({ rollout: { ...base.rollout, runOnceScript: RUN_ONCE } }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    expect(fleet.scriptsFor(IDS[0]!)).toEqual([
      COMMANDS.join('\n'),
      [...RUN_ONCE, ...flushStep('/srv/app')].join('\n')
    ])
    expect(fleet.commands).toHaveLength(3)
    const runOnceDone = fleet.commands[1]!.sentAt + 2_000
    expect(world.firstCall('CreateSnapshot')!).toBeGreaterThanOrEqual(runOnceDone)
  })

  it('never snapshots when run-once fails after the primary’s commands succeeded', async () => {
    fleet.setHost(IDS[0]!, {
      durationMs: COMMAND_MS,
      scripts: { 'rake db:migrate': { outcome: 'Failed', exitCode: 1 } }
    })
    const base = withSync()
    const result = await runDeploy(
      clients,
      withSync({ rollout: { ...base.rollout, runOnceScript: RUN_ONCE } }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(false)
    expect(world.calls['CreateSnapshot']).toBeUndefined()
  })

  it('with freeze, keeps the separate freeze and thaw commands around CreateSnapshot', async () => {
    const base = withSync()
    const result = await runDeploy(
      clients,
      withSync({
        snapshot: { ...base.snapshot, consistency: { mode: 'freeze', mountPoint: '/srv/app' } }
      }),
      makeRuntime({ clock, log: new RecordingLog() })
    )
    expect(result.ok).toBe(true)
    const scripts = fleet.scriptsFor(IDS[0]!)
    expect(scripts[0]).toBe(COMMANDS.join('\n'))
    expect(
      scripts
        .slice(1)
        .map((s) => (s.includes('fsfreeze -f') ? 'freeze' : s.includes('fsfreeze -u') ? 'thaw' : s))
    ).toEqual(['freeze', 'thaw'])
  })
})

describe('the flush in the script', () => {
  const run = (commands: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'ebs-autoscale-flush-'))
    const script = buildScript({ commands, logDirectory: dir, flush: { mountPoint: dir } })
    const r = spawnSync('sh', ['-c', script.join('\n')], { encoding: 'utf8', timeout: 20_000 })
    return { status: r.status, stdout: r.stdout, dir }
  }

  it('runs after commands that succeeded, last', () => {
    const r = run('echo built')
    expect(r.status).toBe(0)
    expect(r.stdout).toBe(`built\nebs-autoscale: flushed ${r.dir} for the snapshot\n`)
  })

  it('never runs after commands that failed: the exit code is theirs', () => {
    const r = run('echo broken; exit 3')
    expect(r.status).toBe(3)
    expect(r.stdout).toBe('broken\n')
  })
})

describe('polling a hop on the critical path', () => {
  /** When a wait for something done after `doneMs` sees it, and how many looks it took. */
  async function seen(backoff: Partial<Backoff>, doneMs: number): Promise<[number, number]> {
    const clock = new VirtualClock()
    const start = clock.now()
    let looks = 0
    const at = await poll<number>({
      label: 'a command',
      timeoutMs: 600_000,
      clock,
      random: () => 0.5,
      backoff,
      check: async () => {
        looks++
        const t = clock.now() - start
        return t >= doneMs ? { done: true, value: t } : { done: false }
      }
    })
    return [at - doneMs, looks]
  }

  it('sees a 4 s hop within 200 ms, and a long one within 4%, at a modest cost in calls', async () => {
    const [late, looks] = await seen(CRITICAL_BACKOFF, 4_000)
    expect(late).toBeLessThanOrEqual(200)
    expect(looks).toBeLessThanOrEqual(25)
    // The default pace sees the same command much later.
    expect((await seen({}, 4_000))[0]).toBeGreaterThan(1_000)
    const [lateLong, looksLong] = await seen(CRITICAL_BACKOFF, 100_000)
    expect(lateLong).toBeLessThanOrEqual(4_000)
    expect(looksLong).toBeLessThan((await seen({}, 100_000))[1] + 60)
  })
})
