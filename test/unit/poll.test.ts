import { describe, expect, it } from '@jest/globals'
import type { Clock } from '../../src/clock.js'
import { ActionError, AwsApiError } from '../../src/errors.js'
import {
  backoffDelay,
  DEFAULT_BACKOFF,
  poll,
  PollAbortedError,
  PollTimeoutError,
  type PollStep
} from '../../src/poll.js'

/** A clock whose sleeps return at once, moving time forward and remembering each delay. */
class FakeClock implements Clock {
  time = 1_000_000
  readonly sleeps: number[] = []
  now(): number {
    return this.time
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    this.time += ms
  }
}

const half = (): number => 0.5

/** A check answering the given steps in turn (the last one repeats). */
function script<T>(...steps: Array<PollStep<T> | Error>): {
  check: () => Promise<PollStep<T>>
  calls: () => number
} {
  let n = 0
  return {
    check: async () => {
      const step = steps[Math.min(n++, steps.length - 1)]!
      if (step instanceof Error) throw step
      return step
    },
    calls: () => n
  }
}

const throttled = (): Error =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'ThrottlingException',
    $metadata: { httpStatusCode: 400 }
  })

describe('backoffDelay', () => {
  const b = { initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.2 }

  it('grows by the factor up to the ceiling', () => {
    expect([0, 1, 2, 3, 4, 5, 10].map((a) => backoffDelay(a, b, half))).toEqual([
      100, 200, 400, 800, 1000, 1000, 1000
    ])
  })

  it('spreads each delay by the jitter either way', () => {
    expect(backoffDelay(1, b, () => 0)).toBeCloseTo(160)
    expect(backoffDelay(1, b, () => 0.999999)).toBeCloseTo(240)
    expect(backoffDelay(10, b, () => 0)).toBeCloseTo(800)
  })
})

describe('poll', () => {
  it('returns at once when the first check is done, without sleeping', async () => {
    const clock = new FakeClock()
    const s = script<string>({ done: true, value: 'completed' })
    await expect(
      poll({ label: 'snapshot snap-1', check: s.check, timeoutMs: 1000, clock, random: half })
    ).resolves.toBe('completed')
    expect(s.calls()).toBe(1)
    expect(clock.sleeps).toEqual([])
  })

  it('backs off with the default pace up to its 2 s ceiling', async () => {
    const clock = new FakeClock()
    const steps: Array<PollStep<number>> = Array.from({ length: 9 }, () => ({
      done: false,
      status: 'pending'
    }))
    const s = script<number>(...steps, { done: true, value: 42 })
    const pending: Array<[string | undefined, number]> = []
    const value = await poll({
      label: 'x',
      check: s.check,
      timeoutMs: 600_000,
      clock,
      random: half,
      onPending: (status, attempt) => pending.push([status, attempt])
    })
    expect(value).toBe(42)
    expect(DEFAULT_BACKOFF).toEqual({ initialMs: 250, maxMs: 2000, factor: 1.5, jitter: 0.2 })
    expect(clock.sleeps).toEqual([250, 375, 562.5, 843.75, 1265.625, 1898.4375, 2000, 2000, 2000])
    expect(pending).toHaveLength(9)
    expect(pending[0]).toEqual(['pending', 0])
    expect(pending[8]).toEqual(['pending', 8])
  })

  it('takes a custom backoff', async () => {
    const clock = new FakeClock()
    const s = script<number>(
      { done: false },
      { done: false },
      { done: false },
      { done: false },
      { done: true, value: 1 }
    )
    await poll({
      label: 'x',
      check: s.check,
      timeoutMs: 60_000,
      clock,
      random: half,
      backoff: { initialMs: 1000, factor: 3, maxMs: 5000 }
    })
    expect(clock.sleeps).toEqual([1000, 3000, 5000, 5000])
  })

  it('times out with the label, the time waited and the last status', async () => {
    const clock = new FakeClock()
    let n = 0
    const err = await poll({
      label: 'snapshot snap-0abc to complete',
      check: async () => ({ done: false, status: `pending (${++n * 10}%)` }),
      timeoutMs: 5000,
      clock,
      random: half
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PollTimeoutError)
    expect(err).toBeInstanceOf(ActionError)
    // The last sleep is cut to the deadline, then one last look is taken.
    expect(clock.sleeps).toEqual([250, 375, 562.5, 843.75, 1265.625, 1703.125])
    expect((err as PollTimeoutError).message).toBe(
      `Timed out after 5s waiting for snapshot snap-0abc to complete (last seen: pending (${n * 10}%))`
    )
    expect(err).toMatchObject({ label: 'snapshot snap-0abc to complete', elapsedMs: 5000 })
  })

  it('times out without a status when checks gave none', async () => {
    const err = await poll({
      label: 'the command',
      check: async () => ({ done: false }),
      timeoutMs: 0,
      clock: new FakeClock(),
      random: half
    }).catch((e: unknown) => e)
    expect((err as Error).message).toBe('Timed out after 0ms waiting for the command')
  })

  it('absorbs throttling as "not yet" and slows down', async () => {
    const clock = new FakeClock()
    const s = script<string>(throttled(), throttled(), { done: true, value: 'ok' })
    const statuses: Array<string | undefined> = []
    await expect(
      poll({
        label: 'x',
        check: s.check,
        timeoutMs: 60_000,
        clock,
        random: half,
        onPending: (status) => statuses.push(status)
      })
    ).resolves.toBe('ok')
    expect(s.calls()).toBe(3)
    // Each throttle skips two steps of the pace: 250*1.5^2, then 250*1.5^5.
    expect(clock.sleeps).toEqual([562.5, 1898.4375])
    expect(statuses).toEqual(['throttled: Rate exceeded', 'throttled: Rate exceeded'])
  })

  it('absorbs throttling that an earlier wrapper already turned into an AwsApiError', async () => {
    const clock = new FakeClock()
    const s = script<number>(new AwsApiError('DescribeSnapshots', 'RequestLimitExceeded', 'slow'), {
      done: true,
      value: 1
    })
    await expect(
      poll({ label: 'x', check: s.check, timeoutMs: 60_000, clock, random: half })
    ).resolves.toBe(1)
  })

  it('reports throttling as the last status when time runs out', async () => {
    const err = await poll({
      label: 'snapshot snap-1',
      check: async () => {
        throw throttled()
      },
      timeoutMs: 3000,
      clock: new FakeClock(),
      random: half
    }).catch((e: unknown) => e)
    expect((err as Error).message).toBe(
      'Timed out after 3s waiting for snapshot snap-1 (last seen: throttled: Rate exceeded)'
    )
  })

  it('lets any other error through at once', async () => {
    const clock = new FakeClock()
    const denied = new AwsApiError('DescribeSnapshots', 'UnauthorizedOperation', 'no')
    const s = script<number>({ done: false }, denied, { done: true, value: 1 })
    await expect(
      poll({ label: 'x', check: s.check, timeoutMs: 60_000, clock, random: half })
    ).rejects.toBe(denied)
    expect(s.calls()).toBe(2)
    expect(clock.sleeps).toEqual([250])
  })

  it('stops before the first check when already aborted', async () => {
    const controller = new AbortController()
    controller.abort()
    const s = script<number>({ done: true, value: 1 })
    const err = await poll({
      label: 'the command',
      check: s.check,
      timeoutMs: 60_000,
      signal: controller.signal,
      clock: new FakeClock()
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PollAbortedError)
    expect((err as Error).message).toBe('Stopped waiting for the command: cancelled')
    expect(s.calls()).toBe(0)
  })

  it('stops after the sleep in which it was aborted, without another check', async () => {
    const controller = new AbortController()
    const clock = new FakeClock()
    const s = script<number>({ done: false, status: 'InProgress' })
    const err = await poll({
      label: 'command c-1',
      check: async () => {
        const step = await s.check()
        if (s.calls() === 3) controller.abort()
        return step
      },
      timeoutMs: 60_000,
      signal: controller.signal,
      clock,
      random: half
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PollAbortedError)
    expect(s.calls()).toBe(3)
    expect(clock.sleeps).toHaveLength(3)
  })

  it('wakes up from a real sleep as soon as it is aborted', async () => {
    const controller = new AbortController()
    const started = Date.now()
    setTimeout(() => controller.abort(), 50)
    const err = await poll({
      label: 'the command',
      check: async () => ({ done: false }),
      timeoutMs: 60_000,
      backoff: { initialMs: 30_000 },
      signal: controller.signal
    }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(PollAbortedError)
    expect(Date.now() - started).toBeLessThan(5000)
  })
})
