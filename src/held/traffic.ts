/**
 * Hosts out of service in the journal: taken before a host is deregistered, settled once it is
 * back (or terminated). Whatever ended the run, the settler registers a host still held exactly
 * so (same port); registering a registered target changes nothing, so a replay is harmless.
 */
import type { Registration } from '../traffic/types.js'
import type { Held, Journal } from './journal.js'

type OutOfService = Extract<Held, { kind: 'out-of-service' }>

const groupName = (arn: string): string => arn.split(':targetgroup/')[1]?.split('/')[0] ?? arn

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

/** Traffic's callbacks that keep the journal: taken before deregistering, settled once back. */
export function journalTraffic(journal: Journal): {
  onLeave: (regs: readonly Registration[]) => Promise<void>
  onReturn: (regs: readonly Registration[]) => void
  onGone: (regs: readonly Registration[]) => void
} {
  return {
    // Recorded where the next run finds it (the lock's record) before the hosts leave service.
    onLeave: async (regs) => {
      for (const r of regs) journal.take(heldOf(r))
      await journal.flush()
    },
    onReturn: (regs) => {
      for (const r of regs) journal.settle(heldOf(r), 'back in service')
    },
    onGone: (regs) => {
      for (const r of regs) journal.settle(heldOf(r), 'instance terminated')
    }
  }
}
