/** The load-balancer side of a deploy: which target groups, and what was taken out of them. */

/** An ELBv2 target group with the timings that bound the waits around a host. */
export interface TargetGroup {
  arn: string
  name: string
  /** `deregistration_delay.timeout_seconds`: how long a deregistered target drains. */
  deregistrationDelayMs: number
  /** Health check interval x healthy threshold: how long a registered target takes to pass. */
  healthCheckMs: number
  /** The hosts' Auto Scaling groups it is attached to: their members belong in it. */
  attachedTo?: string[]
}

/** One target as registered: re-registered exactly so (same port) when the host returns. */
export interface Registration {
  targetGroupArn: string
  targetGroupName: string
  instanceId: string
  /** The port it was registered on; undefined means the target group's port. */
  port?: number
}

/**
 * Which target groups: `auto` is every ELBv2 target group attached to the hosts' Auto Scaling
 * groups; `given` are ARNs or names. `{ auto: false, given: [] }` turns traffic handling off.
 */
export interface TargetGroupChoice {
  auto: boolean
  given: readonly string[]
}

/** A host that did not become healthy in time, with what ELB said. */
export interface HealthFailure {
  instanceId: string
  targetGroupName: string
  state: string
  reasonCode?: string
  description?: string
  /** One line: `not healthy in target group web after 30s: unhealthy (Target.Timeout: ...)`. */
  message: string
}

/** What leaveService did. */
export interface LeaveResult {
  /** Hosts deregistered from at least one target group (they are out of service now). */
  instanceIds: string[]
  /** Hosts left alone: in Standby (already out of service) or registered in none of the groups. */
  skipped: Array<{ instanceId: string; reason: 'standby' | 'not-registered' }>
  registrations: Registration[]
  /** Hosts kept in service: their leave would take a target group below min-healthy now. */
  refused: Array<{ instanceId: string; reason: string }>
  drainMs: number
  /** The drain outlasted drain-timeout: the hosts went on while connections may still be open. */
  drainTimedOut: boolean
}

/** What returnToService did. */
export interface ReturnResult {
  /** Hosts registered again. */
  instanceIds: string[]
  healthy: string[]
  failed: HealthFailure[]
  /** Not healthy after its deploy, but it served nothing before it either: not a failure. */
  stillNotServing: HealthFailure[]
  healthWaitMs: number
  /** The longest a host of this call was out of service: deregistration to healthy (or given up). */
  outOfServiceMs: number
}
