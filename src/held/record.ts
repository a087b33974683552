/**
 * The record of a run in AWS: what it still holds (commands running, its snapshot, hosts out of
 * service), written into its deploy lock's value (src/lock/holder.ts) as things are taken and
 * settled, so whoever finds the lock after the run died (the post step, a re-run, the next
 * deploy) finishes its cleanup. Only what is still held is kept, compactly: at most
 * max-concurrency hosts per target group out of service at once, and a few commands, about 22
 * bytes per host. The lock's value holds 8 KB at most (the advanced tier): about 300 hosts out
 * of service at once, summed over target groups. A run that would hold more fails before the
 * host leaves service (LockKeeper), never leaves one out unrecorded.
 */
import type { LockRecord } from '../lock/holder.js'
import type { Held } from './journal.js'
import { Journal, mapStateProvider } from './journal.js'
import { type Settled, type Settlers, settleHeld } from './settle.js'

/** What a run holds, as its lock records it (the lock itself is the record's container). */
export function encodeRecord(held: readonly Held[]): LockRecord {
  const record: LockRecord = {}
  for (const h of held) {
    switch (h.kind) {
      case 'command':
        ;(record.c ??= []).push(h.commandId)
        break
      case 'snapshot':
        ;(record.s ??= []).push(h.snapshotId)
        break
      case 'out-of-service': {
        const hosts = ((record.o ??= {})[h.targetGroupArn] ??= [])
        hosts.push(h.port !== undefined ? `${h.instanceId}:${h.port}` : h.instanceId)
        break
      }
      case 'lock':
        break
    }
  }
  return record
}

export function decodeRecord(record: LockRecord | undefined): Held[] {
  if (!record) return []
  const held: Held[] = []
  for (const commandId of record.c ?? []) held.push({ kind: 'command', commandId })
  for (const snapshotId of record.s ?? []) held.push({ kind: 'snapshot', snapshotId })
  for (const [targetGroupArn, hosts] of Object.entries(record.o ?? {})) {
    for (const host of hosts) {
      const [instanceId, port] = host.split(':')
      held.push({
        kind: 'out-of-service',
        targetGroupArn,
        instanceId: instanceId!,
        ...(port ? { port: Number(port) } : {})
      })
    }
  }
  return held
}

/**
 * Settles what a record lists with the given settlers (hosts out of service first: they serve
 * nothing until registered again). Throws, naming what is left, when something could not be
 * settled; every settler is safe to repeat, so the next try settles the rest.
 */
export async function settleRecord(
  record: LockRecord | undefined,
  settlers: Settlers
): Promise<Settled[]> {
  const held = decodeRecord(record)
  const order = (h: Held): number =>
    h.kind === 'out-of-service' ? 0 : h.kind === 'command' ? 1 : 2
  held.sort((a, b) => order(a) - order(b))
  const journal = Journal.start(mapStateProvider())
  for (const h of held) journal.take(h)
  const settled = await settleHeld(journal, settlers)
  const failed = settled.filter((s) => !s.ok)
  if (failed.length)
    throw new Error(
      `${failed.length} of ${settled.length} thing(s) its record lists could not be settled: ${failed.map((s) => s.outcome).join(' ')}`
    )
  return settled
}
