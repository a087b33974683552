/**
 * One journal of everything a run holds, written as it is taken, so whatever ends the run (a
 * return, an error, a crash) can be followed by a release of exactly what is still held: by
 * the run's own `finally`, or by the post step replaying the journal when the main step died.
 * The commands sent, the snapshot made, the hosts out of service and the deploy lock.
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
  /** A snapshot this run made: tagged failed unless published. */
  | { kind: 'snapshot'; snapshotId: string }
  /**
   * A host taken out of a target group, journalled before it is deregistered: registered
   * again (same port) unless it was put back.
   */
  | { kind: 'out-of-service'; targetGroupArn: string; instanceId: string; port?: number }
  /** The deploy lock of one launch template (src/lock): deleted if this run still holds it. */
  | { kind: 'lock'; name: string; token: string; templateId: string }

export interface JournalEntry {
  held: Held
  /** How it was released (published, ended, cancelled, tagged failed...); absent while held. */
  released?: string
}

export const JOURNAL_KEY = 'journal'

const idOf = (h: Held): string =>
  h.kind === 'command'
    ? h.commandId
    : h.kind === 'snapshot'
      ? h.snapshotId
      : h.kind === 'lock'
        ? h.token
        : `${h.targetGroupArn}|${h.instanceId}|${h.port ?? ''}`

export class Journal {
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

  /** The journal a main step left (the post step). */
  static read(state: StateProvider): Journal {
    const text = state.getState(JOURNAL_KEY)
    return new Journal(state, text ? (JSON.parse(text) as JournalEntry[]) : [])
  }

  take(held: Held): void {
    this.entries.push({ held })
    this.save()
  }

  release(held: Held, how: string): void {
    const entry = this.entries.find(
      (e) => !e.released && e.held.kind === held.kind && idOf(e.held) === idOf(held)
    )
    if (!entry) return
    entry.released = how
    this.save()
  }

  /** What is still held, in the order it was taken. */
  held(): Held[] {
    return this.entries.filter((e) => !e.released).map((e) => e.held)
  }

  private save(): void {
    this.state.setState(JOURNAL_KEY, JSON.stringify(this.entries))
  }
}
