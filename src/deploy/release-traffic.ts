/**
 * Hosts out of service: whatever ended the run, a host the journal says was taken out of a
 * target group is registered again exactly so (same port). Registering a registered target
 * changes nothing, so replaying it after the run put the host back itself is harmless.
 */
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { restoreRegistrations } from '../traffic/targets.js'
import type { Registration } from '../traffic/types.js'
import type { Held, Journal } from './journal.js'
import type { Releaser } from './release.js'

type OutOfService = Extract<Held, { kind: 'out-of-service' }>

const groupName = (arn: string): string => arn.split(':targetgroup/')[1]?.split('/')[0] ?? arn

export function trafficReleaser(elbv2: ElasticLoadBalancingV2Client): Releaser<'out-of-service'> {
  return async (held) => {
    const result = await restoreRegistrations(elbv2, [registrationOf(held)])
    const failed = result.failed[0]
    if (failed) throw new Error(failed.error)
    const port = held.port !== undefined ? ` (port ${held.port})` : ''
    return `Registered ${held.instanceId}${port} again in target group ${groupName(held.targetGroupArn)}.`
  }
}

export function registrationOf(held: OutOfService): Registration {
  return {
    targetGroupArn: held.targetGroupArn,
    targetGroupName: groupName(held.targetGroupArn),
    instanceId: held.instanceId,
    ...(held.port !== undefined ? { port: held.port } : {})
  }
}

export const heldOf = (r: Registration): OutOfService => ({
  kind: 'out-of-service',
  targetGroupArn: r.targetGroupArn,
  instanceId: r.instanceId,
  ...(r.port !== undefined ? { port: r.port } : {})
})

/** Traffic's callbacks that keep the journal: taken before deregistering, released once back. */
export function journalTraffic(journal: Journal): {
  onLeave: (regs: readonly Registration[]) => void
  onReturn: (regs: readonly Registration[]) => void
  onGone: (regs: readonly Registration[]) => void
} {
  return {
    onLeave: (regs) => {
      for (const r of regs) journal.take(heldOf(r))
    },
    onReturn: (regs) => {
      for (const r of regs) journal.release(heldOf(r), 'back in service')
    },
    onGone: (regs) => {
      for (const r of regs) journal.release(heldOf(r), 'instance terminated')
    }
  }
}
