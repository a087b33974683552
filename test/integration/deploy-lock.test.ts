import { describe, expect, it } from '@jest/globals'
import {
  DeleteParameterCommand,
  GetParameterCommand,
  PutParameterCommand
} from '@aws-sdk/client-ssm'
import type { Clock } from '../../src/clock.js'
import type { Provenance } from '../../src/model/provenance.js'
import {
  acquireDeployLock,
  LockHeldError,
  lockName,
  parseHolder,
  freeDeployLock
} from '../../src/lock/deploy-lock.js'
import { makeRuntime } from '../../src/runtime.js'
import { useEmulator } from '../helpers/emulator.js'
import { intercept } from '../helpers/intercept.js'
import { RecordingLog } from '../helpers/log.js'
import { RUN } from '../../support/fixtures.js'

const emulator = useEmulator()
const TEMPLATE = 'lt-0123456789abcdef0'

/** Time that passes only when someone sleeps: waits of minutes take no real time. */
function instantClock(start = Date.parse('2026-11-26T06:00:00Z')): Clock {
  let now = start
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms
    }
  }
}

const run = (runId: string, runAttempt = '1'): Provenance => ({ ...RUN, runId, runAttempt })
const options = (r: Provenance, timeoutMs = 0) => ({
  templateId: TEMPLATE,
  run: r,
  timeoutMs,
  holdMs: 3_600_000
})

describe('the deploy lock, an SSM parameter created without overwrite', () => {
  it('lets one run hold it; a second waits out lock-timeout and fails naming the holder', async () => {
    const { ssm } = emulator.clients
    const clock = instantClock()
    const first = await acquireDeployLock(ssm, options(run('100')), makeRuntime({ clock }))
    const stored = await ssm.send(new GetParameterCommand({ Name: lockName(TEMPLATE) }))
    expect(parseHolder(stored.Parameter?.Value)).toMatchObject({
      token: first.token,
      runId: '100',
      runUrl: 'https://github.com/acme/shop/actions/runs/100',
      startedAt: '2026-11-26T06:00:00.000Z',
      expiresAt: '2026-11-26T07:00:00.000Z'
    })

    const log = new RecordingLog()
    const second = acquireDeployLock(ssm, options(run('200'), 300_000), makeRuntime({ clock, log }))
    await expect(second).rejects.toThrow(LockHeldError)
    await expect(second).rejects.toThrow(
      `Another deploy holds the lock of launch template ${TEMPLATE}: https://github.com/acme/shop/actions/runs/100 (attempt 1, commit 0123456789ab)`
    )
    await expect(second).rejects.toThrow(
      `break the lock with: aws ssm delete-parameter --name /ebs-autoscale/lock/${TEMPLATE}`
    )
    expect(log.messages('info')[0]).toMatch(
      /^Waiting for the deploy lock of lt-0123456789abcdef0: held by https:\/\/github.com\/acme\/shop\/actions\/runs\/100/
    )
    // The waiter did not disturb the holder.
    expect(await freeDeployLock(ssm, first)).toBe('freed')
  })

  it('goes to the next run once the holder releases it, and release is safe to repeat', async () => {
    const { ssm } = emulator.clients
    const clock = instantClock()
    const first = await acquireDeployLock(ssm, options(run('100')), makeRuntime({ clock }))
    expect(await freeDeployLock(ssm, first)).toBe('freed')
    expect(await freeDeployLock(ssm, first)).toBe('not held')
    const second = await acquireDeployLock(ssm, options(run('200')), makeRuntime({ clock }))
    // A stale release by the first run never frees the second run's lock.
    expect(await freeDeployLock(ssm, first)).toBe('not held')
    const stored = await ssm.send(new GetParameterCommand({ Name: lockName(TEMPLATE) }))
    expect(parseHolder(stored.Parameter?.Value)?.token).toBe(second.token)
  })

  it('lets a re-run take over the lock its own earlier attempt left, and no one else', async () => {
    const { ssm } = emulator.clients
    const clock = instantClock()
    await acquireDeployLock(ssm, options(run('100', '1')), makeRuntime({ clock }))
    await expect(
      acquireDeployLock(ssm, options(run('101', '2')), makeRuntime({ clock }))
    ).rejects.toThrow(LockHeldError)
    const log = new RecordingLog()
    const retry = await acquireDeployLock(
      ssm,
      options(run('100', '2'), 60_000),
      makeRuntime({ clock, log })
    )
    expect(log.messages('warning')).toEqual([
      `Taking over the lock /ebs-autoscale/lock/${TEMPLATE} from attempt 1 of this same run (it has ended).`
    ])
    const stored = await ssm.send(new GetParameterCommand({ Name: lockName(TEMPLATE) }))
    expect(parseHolder(stored.Parameter?.Value)).toMatchObject({
      token: retry.token,
      runAttempt: '2'
    })
  })

  it('says when the holder is past its own deadline, and leaves an unreadable lock alone', async () => {
    const { ssm } = emulator.clients
    const clock = instantClock()
    await acquireDeployLock(ssm, { ...options(run('100')), holdMs: 60_000 }, makeRuntime({ clock }))
    clock.sleep(120_000)
    await expect(
      acquireDeployLock(ssm, options(run('200')), makeRuntime({ clock }))
    ).rejects.toThrow('it is past its own deadline, so it died or hangs')

    await ssm.send(
      new PutParameterCommand({
        Name: lockName('lt-0ffffffffffffffff'),
        Value: 'x',
        Type: 'String'
      })
    )
    await expect(
      acquireDeployLock(
        ssm,
        { ...options(run('200')), templateId: 'lt-0ffffffffffffffff' },
        makeRuntime({ clock })
      )
    ).rejects.toThrow('a holder this version cannot read')
  })

  it('recognises its own lock when PutParameter took effect but its answer was lost', async () => {
    const { ssm } = emulator.clients
    const clock = instantClock()
    // The create takes effect, its answer is lost, and the SDK retries it (maxAttempts 2): the
    // retry meets the first call's parameter and answers ParameterAlreadyExists.
    await emulator.loseAnswer('PutParameter')
    const log = new RecordingLog()
    const held = await acquireDeployLock(
      ssm,
      options(run('100'), 600_000),
      makeRuntime({ clock, log })
    )
    const stored = await ssm.send(new GetParameterCommand({ Name: lockName(TEMPLATE) }))
    expect(parseHolder(stored.Parameter?.Value)).toMatchObject({ token: held.token, runId: '100' })
    // Taken at once, never waiting for itself.
    expect(log.messages('info').filter((m) => m.startsWith('Waiting'))).toEqual([])
    expect(log.messages('info')).toContain(
      `The deploy lock ${lockName(TEMPLATE)} carries this run's token: PutParameter took effect, its answer was lost and the retry found it.`
    )
    expect(await freeDeployLock(ssm, held)).toBe('freed')
    await expect(ssm.send(new GetParameterCommand({ Name: lockName(TEMPLATE) }))).rejects.toThrow(
      /ParameterNotFound|not found/i
    )
  })

  it('a lock two runs take over at once: the one whose lock the other deleted late waits again', async () => {
    const { ssm } = emulator.clients
    const clock = instantClock()
    await acquireDeployLock(ssm, options(run('100')), makeRuntime({ clock }))
    await clock.sleep(600_000)
    // Run 300 read the dead lock with run 200; its delete lands late, just after run 200's
    // create, and it creates its own.
    let other: Awaited<ReturnType<typeof acquireDeployLock>> | undefined
    const late = intercept(ssm, async (command, send) => {
      const answer = await send(command)
      if (command instanceof PutParameterCommand && !command.input.Overwrite && !other) {
        await ssm.send(new DeleteParameterCommand({ Name: lockName(TEMPLATE) }))
        other = await acquireDeployLock(ssm, options(run('300')), makeRuntime({ clock }))
      }
      return answer
    })
    const log = new RecordingLog()

    await expect(
      acquireDeployLock(
        late,
        { ...options(run('200'), 30_000), staleMs: 300_000, takeOver: async () => [] },
        makeRuntime({ clock, log })
      )
    ).rejects.toThrow(LockHeldError)

    expect(log.messages('warning')).toContain(
      `The deploy lock ${lockName(TEMPLATE)} was replaced right after this run took it (another run took over the same dead lock at the same moment): waiting again.`
    )
    const stored = await ssm.send(new GetParameterCommand({ Name: lockName(TEMPLATE) }))
    expect(parseHolder(stored.Parameter?.Value)).toMatchObject({
      token: other!.token,
      runId: '300'
    })
  })

  it('stops waiting when the run is cancelled', async () => {
    const { ssm } = emulator.clients
    const clock = instantClock()
    await acquireDeployLock(ssm, options(run('100')), makeRuntime({ clock }))
    const abort = new AbortController()
    abort.abort()
    await expect(
      acquireDeployLock(
        ssm,
        options(run('200'), 600_000),
        makeRuntime({ clock, signal: abort.signal })
      )
    ).rejects.toThrow(
      'Stopped waiting for the deploy lock /ebs-autoscale/lock/lt-0123456789abcdef0: cancelled'
    )
  })
})
