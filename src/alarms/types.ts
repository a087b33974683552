/** CloudWatch alarms as gates on a rollout, and the bake times they watch over. */

/** The three states CloudWatch gives an alarm. */
export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'

export interface AlarmSettings {
  /** Alarm names (metric or composite), in this region. */
  names: readonly string[]
  /**
   * INSUFFICIENT_DATA: `ok` (the default: a quiet metric, or a new alarm, is not a fault) or
   * `fail` (treated as ALARM: an alarm that cannot see is not trusted).
   */
  insufficientData: 'ok' | 'fail'
}

/** One alarm as DescribeAlarms answered. */
export interface AlarmState {
  name: string
  kind: 'metric' | 'composite'
  state: AlarmStateValue
  /** StateReason: what CloudWatch says made it change. */
  reason: string
  /** StateUpdatedTimestamp, when CloudWatch gave one. */
  updatedAt?: Date
}

/** The first alarm seen firing, and when this run saw it. */
export interface FiredAlarm extends AlarmState {
  /** Clock time (ms) of the look that saw it. */
  seenAt: number
}

/** One bake: how long it was to last, how long it did, and what ended it early. */
export interface BakeResult {
  /** `after the canary`, `after the last host`. */
  after: string
  bakeMs: number
  waitedMs: number
  /** Why it ended early (an alarm, a target's health, cancellation); undefined: it ran out. */
  stoppedBy?: string
}

/** What the alarms and bake times did in one run, for the summary. */
export interface AlarmReport {
  names: string[]
  insufficientData: 'ok' | 'fail'
  /** The first alarm seen firing during the rollout or a bake. */
  fired?: FiredAlarm
  bakes: BakeResult[]
}

/** Whether an alarm in this state stops the rollout, under these settings. */
export function isFiring(state: AlarmStateValue, insufficientData: 'ok' | 'fail'): boolean {
  return state === 'ALARM' || (state === 'INSUFFICIENT_DATA' && insufficientData === 'fail')
}

/** One sentence: `alarm "api-5xx" is in ALARM (since 2026-...Z): Threshold Crossed: ...`. */
export function describeAlarm(a: AlarmState): string {
  const since = a.updatedAt ? ` since ${a.updatedAt.toISOString()}` : ''
  return `alarm "${a.name}" is in ${a.state}${since}${a.reason ? `: ${a.reason}` : ''}`
}
