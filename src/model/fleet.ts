/** The fleet's vocabulary: how hosts are chosen, and how many of them a limit allows. */

/** Tag filter: key -> accepted values. Values of one key OR together; keys AND together. */
export type TagFilter = ReadonlyMap<string, readonly string[]>

/** A number of hosts, or a share of the fleet. */
export type CountOrPercent = { kind: 'count'; value: number } | { kind: 'percent'; value: number }

export const INSTANCE_STATES = [
  'pending',
  'running',
  'shutting-down',
  'terminated',
  'stopping',
  'stopped'
] as const
export type InstanceState = (typeof INSTANCE_STATES)[number]

/** Resolves a count or percentage against a fleet size (percentages round down). */
export function resolveCountOrPercent(v: CountOrPercent, fleetSize: number): number {
  return v.kind === 'count' ? v.value : Math.floor((v.value * fleetSize) / 100)
}
