/**
 * The record of a deploy in AWS and the runner's state stay small whatever the fleet: the state
 * names only the locks, and the record lists only what is still held.
 */
import { describe, expect, it } from '@jest/globals'
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { type Held, Journal, JOURNAL_KEY, mapStateProvider } from '../../src/held/journal.js'
import { LockKeeper, LockKeepers } from '../../src/held/lock-keeper.js'
import { decodeRecord, encodeRecord } from '../../src/held/record.js'
import type { AcquiredLock } from '../../src/lock/deploy-lock.js'
import { makeRuntime } from '../../src/runtime.js'

const GROUPS = ['web', 'api', 'admin'].map(
  (n) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/${n}/0123456789abcdef`
)
const id = (i: number) => `i-${i.toString(16).padStart(17, '0')}`
const outOfService = (hosts: number, groups = GROUPS): Held[] =>
  groups.flatMap((targetGroupArn) =>
    Array.from({ length: hosts }, (_, i) => ({
      kind: 'out-of-service' as const,
      targetGroupArn,
      instanceId: id(i),
      ...(i % 2 ? { port: 8080 } : {})
    }))
  )

const LOCK: AcquiredLock = {
  name: '/ebs-autoscale/lock/lt-0123456789abcdef0',
  token: 'tok',
  templateId: 'lt-0123456789abcdef0',
  lines: [],
  holder: {
    token: 'tok',
    repository: 'acme/shop',
    runId: '1',
    runAttempt: '1',
    runUrl: 'https://github.com/acme/shop/actions/runs/1',
    sha: '0123456789abcdef0123456789abcdef01234567',
    startedAt: '2026-11-26T06:00:00.000Z',
    expiresAt: '2026-11-26T08:00:00.000Z'
  }
}

describe('the record of a deploy', () => {
  it('round-trips what is held, compactly', () => {
    const held: Held[] = [
      { kind: 'command', commandId: 'c-1' },
      { kind: 'snapshot', snapshotId: 'snap-1' },
      ...outOfService(2)
    ]
    const record = encodeRecord([...held, { kind: 'lock', name: 'n', token: 't', templateId: 'x' }])
    expect(record.o?.[GROUPS[0]!]).toEqual([id(0), `${id(1)}:8080`])
    expect(decodeRecord(record)).toEqual(held)
  })

  it('keeps the post step’s state small for 1,000 hosts behind three target groups', () => {
    const writes: string[] = []
    const state = {
      setState: (k: string, v: string) => void (k === JOURNAL_KEY && writes.push(v)),
      getState: () => writes.at(-1) ?? ''
    }
    const journal = Journal.start(state)
    const sink = { record: () => undefined, flush: async () => undefined }
    journal.take({ kind: 'lock', name: LOCK.name, token: LOCK.token, templateId: LOCK.templateId })
    journal.attach(sink)
    // Every host of the fleet leaves service and comes back, 50 at a time, each in 3 groups.
    const all = outOfService(1000)
    for (let i = 0; i < all.length; i += 150) {
      const wave = all.slice(i, i + 150)
      for (const h of wave) journal.take(h)
      for (const h of wave) journal.settle(h, 'back in service')
    }
    // The state names only the lock: its record in AWS lists the rest.
    expect(writes.at(-1)).toBe(
      JSON.stringify([
        { held: { kind: 'lock', name: LOCK.name, token: LOCK.token, templateId: LOCK.templateId } }
      ])
    )
    expect(Math.max(...writes.map((w) => w.length))).toBeLessThan(8192)
    // Written when it changes only, not at every host: the state file does not grow with the fleet.
    expect(writes.length).toBeLessThanOrEqual(3)
    expect(
      Journal.read(mapStateProvider(new Map([[JOURNAL_KEY, writes.at(-1)!]]))).held()
    ).toHaveLength(1)
  })

  it('fits 100 hosts out of service at once in three target groups in the lock (8 KB), and refuses more before they leave', async () => {
    const ssm = mockClient(SSMClient)
    let value = JSON.stringify(LOCK.holder)
    ssm.on(GetParameterCommand).callsFake(() => ({ Parameter: { Value: value } }))
    ssm.on(PutParameterCommand).callsFake((input: { Value: string }) => {
      value = input.Value
      return { Version: 2 }
    })
    const keepers = new LockKeepers()
    keepers.add(new LockKeeper(new SSMClient({ region: 'eu-west-1' }), LOCK, makeRuntime()))
    keepers.record(outOfService(100))
    await keepers.flush()
    expect(value.length).toBeLessThanOrEqual(8192)
    expect(decodeRecord(JSON.parse(value).record)).toHaveLength(300)

    keepers.record(outOfService(150))
    await expect(keepers.flush()).rejects.toThrow(
      /^The record of what this deploy holds \(450 thing\(s\), \d+ bytes\) does not fit in its lock \/ebs-autoscale\/lock\/lt-0123456789abcdef0 \(8192 bytes at most\): lower max-concurrency/
    )
    // The last record that fit is what AWS keeps.
    expect(decodeRecord(JSON.parse(value).record)).toHaveLength(300)
    await keepers.stop()
    ssm.restore()
  })
})
