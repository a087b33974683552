/** An EC2 instance id: `i-` and 8 or 17 hex digits. The one pattern every input is checked against. */
export const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/

/** One EC2 instance the actions work on, as resolve-hosts reports it. */
export interface Host {
  instanceId: string
  state: string
  privateIp?: string
  publicIp?: string
  privateDnsName?: string
  publicDnsName?: string
  availabilityZone?: string
  /** ISO 8601. */
  launchTime: string
  launchTemplateId?: string
  launchTemplateVersion?: string
  autoScalingGroup?: string
  /**
   * Its Auto Scaling lifecycle state (InService, Standby...), when it was found as a member of
   * a named group. A Standby member is running and serves again after ExitStandby, so it gets
   * the deploy like any other.
   */
  lifecycleState?: string
  /** The release its code volume's `current` names, as its tag says (releases). */
  release?: string
  tags: Record<string, string>
}

/**
 * The order every action uses: oldest launch first, then instance id (a tie-break that makes
 * the order total, so it is the same on every run). The first host is the primary: the one a
 * deploy runs one-off tasks on and snapshots.
 */
export function compareHosts(a: Host, b: Host): number {
  const t = Date.parse(a.launchTime) - Date.parse(b.launchTime)
  if (t !== 0 && !Number.isNaN(t)) return t
  return a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0
}
