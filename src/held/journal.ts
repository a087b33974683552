/**
 * One journal of everything a run holds, written as it is taken, so whatever ends the run (a
 * return, an error, a crash) can be followed by settling exactly what is still held: by the
 * run's own `finally` (holding.ts), or by the post step replaying the journal when the main step
 * died. The commands sent, the snapshot made, the hosts out of service and the deploy locks.
 */

/**
 * Where the journal lives between the main and the post step: the adapter backs it with
 * core.saveState/getState, tests with a map (actions/cache's stateProvider.ts, the same idea).
 */
export interface StateProvider {
  setState(key: string, value: string): void
  getState(key: string): string
}

export function mapStateProvider(map = new Map<string, string>()): StateProvider {
  return { setState: (k, v) => void map.set(k, v), getState: (k) => map.get(k) ?? '' }
}

export type Held =
  /** An SSM command: cancelled if still running. */
  | { kind: 'command'; commandId: string }
  /** A snapshot this run made: tagged failed (or deleted) unless published. */
  | { kind: 'snapshot'; snapshotId: string }
  /**
   * A host taken out of a target group, journalled before it is deregistered: registered
   * again (same port) unless it was put back.
   */
  | { kind: 'out-of-service'; targetGroupArn: string; instanceId: string; port?: number }
  /** The deploy lock of one launch template (src/lock): deleted if this run still holds it. */
  | { kind: 'lock'; name: string; token: string; templateId: string }

export type HeldKind = Held['kind']

export interface JournalEntry {
  held: Held
  /** How it was settled (published, ended, cancelled, tagged failed...); absent while held. */
  settled?: string
}

export const JOURNAL_KEY = 'journal'

/**
 * Where the journal is kept in AWS once the run holds a deploy lock (the lock's record,
 * src/held/lock-keeper.ts): told what is still held at each change, written batched.
 */
export interface RecordSink {
  record(held: readonly Held[]): void
  /** Resolves once what was last recorded is in AWS; throws when it could not be written. */
  flush(): Promise<void>
}

const idOf = (h: Held): string => {
  switch (h.kind) {
    case 'command':
      return h.commandId
    case 'snapshot':
      return h.snapshotId
    case 'lock':
      return h.token
    case 'out-of-service':
      return `${h.targetGroupArn}|${h.instanceId}|${h.port ?? ''}`
  }
}

export class Journal {
  private sink?: RecordSink
  private saved = ''
  private constructor(
    private readonly state: StateProvider,
    readonly entries: JournalEntry[]
  ) {}

  /** A new journal (the main step); it overwrites any earlier one under the same key. */
  static start(state: StateProvider): Journal {
    const journal = new Journal(state, [])
    journal.save()
    return journal
  }

  /** The journal a main step left (the post step): what it still held. */
  static read(state: StateProvider): Journal {
    const text = state.getState(JOURNAL_KEY)
    return new Journal(state, text ? (JSON.parse(text) as JournalEntry[]) : [])
  }

  /**
   * From now on what is held is recorded in AWS (the deploy lock's record), and the runner's
   * state keeps only the locks: the reference the post step reads the record by.
   */
  attach(sink: RecordSink): void {
    this.sink = sink
    this.save()
  }

  /** Once what is held now is recorded where the next run finds it (a no-op without a sink). */
  async flush(): Promise<void> {
    await this.sink?.flush()
  }

  take(held: Held): void {
    this.entries.push({ held })
    this.save()
  }

  /** No longer held: `how` says what became of it. Unknown or already settled: no change. */
  settle(held: Held, how: string): void {
    const entry = this.entries.find(
      (e) => !e.settled && e.held.kind === held.kind && idOf(e.held) === idOf(held)
    )
    if (!entry) return
    entry.settled = how
    this.save()
  }

  /** What is still held, in the order it was taken. */
  held(): Held[] {
    return this.entries.filter((e) => !e.settled).map((e) => e.held)
  }

  /**
   * Only what is still held is written, bounded by what a run holds at once whatever the fleet
   * (the whole history rewritten on every change grew the runner's state file quadratically).
   */
  private save(): void {
    const held = this.entries.filter((e) => !e.settled)
    if (this.sink) this.sink.record(held.map((e) => e.held).filter((h) => h.kind !== 'lock'))
    const kept = this.sink ? held.filter((e) => e.held.kind === 'lock') : held
    const text = JSON.stringify(kept.map((e) => ({ held: e.held })))
    if (text === this.saved) return
    this.saved = text
    this.state.setState(JOURNAL_KEY, text)
  }
}
