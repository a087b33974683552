/**
 * Keeps the deploy locks a run holds alive and its record in them: a heartbeat rewrites each
 * lock's value every `renewMs` (renewedAt), so a lock whose run died is recognised within
 * minutes (src/lock/holder.ts deadBecause), and every change of what the run holds is written
 * into the same value, batched: one write in flight per lock, the next carrying every change
 * made meanwhile. A write first reads the lock: one another run took over is never rewritten.
 */
import type { SSMClient } from '@aws-sdk/client-ssm'
import { ActionError, errorMessage } from '../errors.js'
import type { AcquiredLock } from '../lock/deploy-lock.js'
import { MAX_LOCK_VALUE, overwrite, readHolder } from '../lock/parameter.js'
import type { Runtime } from '../runtime.js'
import type { Held, RecordSink } from './journal.js'
import { encodeRecord } from './record.js'

export class LockKeeper {
  private held: readonly Held[] = []
  private tail: Promise<void> = Promise.resolve()
  private queued?: Promise<void>
  private readonly stopper = new AbortController()
  private beating?: Promise<void>

  constructor(
    private readonly ssm: SSMClient,
    readonly lock: AcquiredLock,
    private readonly runtime: Runtime,
    private readonly renewMs?: number
  ) {}

  /** Starts the heartbeat (when renewMs is set), on the runtime's clock. */
  start(): void {
    if (this.renewMs) this.beating = this.beat(this.renewMs)
  }

  record(held: readonly Held[]): void {
    this.held = held
    // Whoever must know it is written (a host about to leave service) awaits flush().
    this.flush().catch(() => undefined)
  }

  /** Resolves once the record as it is now is written; one write in flight at a time. */
  flush(): Promise<void> {
    if (this.stopper.signal.aborted) return Promise.resolve()
    if (!this.queued) {
      const next = this.tail.then(() => {
        this.queued = undefined
        return this.write()
      })
      this.queued = next
      this.tail = next.catch(() => undefined)
    }
    return this.queued
  }

  /** No more writes: stops the heartbeat and waits for the write in flight. */
  async stop(): Promise<void> {
    this.stopper.abort()
    await this.beating
    await this.tail
  }

  private async beat(renewMs: number): Promise<void> {
    const { clock, log } = this.runtime
    for (;;) {
      await clock.sleep(renewMs, this.stopper.signal)
      if (this.stopper.signal.aborted) return
      try {
        await this.flush()
      } catch (err) {
        log.warning(`Could not renew the deploy lock ${this.lock.name}: ${errorMessage(err)}`)
      }
    }
  }

  private async write(): Promise<void> {
    const { name, token } = this.lock
    const current = await readHolder(this.ssm, name)
    if (current?.token !== token)
      throw new ActionError(
        `This run no longer holds the deploy lock ${name}: ${current ? 'another run took it over (its heartbeat was missed for too long)' : 'it was deleted'}.`
      )
    const renewedAt = new Date(this.runtime.clock.now()).toISOString()
    const record = encodeRecord(this.held)
    const value = {
      ...this.lock.holder,
      renewedAt,
      ...(Object.keys(record).length ? { record } : {})
    }
    const size = JSON.stringify(value).length
    if (size > MAX_LOCK_VALUE)
      throw new ActionError(
        `The record of what this deploy holds (${this.held.length} thing(s), ${size} bytes) does not fit in its lock ${name} (${MAX_LOCK_VALUE} bytes at most): lower max-concurrency, so fewer hosts are out of service at once.`
      )
    await overwrite(this.ssm, name, value)
  }
}

/** Every lock of a run as one record sink: the record is written into each. */
export class LockKeepers implements RecordSink {
  private readonly keepers = new Map<string, LockKeeper>()

  add(keeper: LockKeeper): void {
    this.keepers.set(keeper.lock.token, keeper)
    keeper.start()
  }

  get size(): number {
    return this.keepers.size
  }

  get(token: string): LockKeeper | undefined {
    return this.keepers.get(token)
  }

  record(held: readonly Held[]): void {
    for (const k of this.keepers.values()) k.record(held)
  }

  async flush(): Promise<void> {
    await Promise.all([...this.keepers.values()].map((k) => k.flush()))
  }

  async stop(): Promise<void> {
    await Promise.all([...this.keepers.values()].map((k) => k.stop()))
  }
}
