/**
 * The per-host lifecycle steps behind a load balancer: leave service (deregister from every
 * target group, wait out the drain) before a host deploys, return to service (register exactly
 * as before, wait until healthy everywhere) after. Everything taken out is remembered until it
 * is back, so `restoreAll()` can put it back whatever ended the run.
 */
import type {
  ElasticLoadBalancingV2Client,
  TargetHealth
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { formatDuration } from '../duration.js'
import type { Host } from '../hosts/host.js'
import { type Backoff, poll, PollTimeoutError } from '../poll.js'
import type { Runtime } from '../runtime.js'
import type { GroupFloor } from './capacity.js'
import { lookUntilFloorsKept } from './floor.js'
import {
  byTargetGroup,
  describeHealth,
  deregister,
  inService,
  register,
  restoreRegistrations,
  type RestoreResult
} from './targets.js'
import type {
  HealthFailure,
  LeaveResult,
  Registration,
  ReturnResult,
  TargetGroup
} from './types.js'

export interface TrafficOptions {
  targetGroups: readonly TargetGroup[]
  drainTimeoutMs: number
  healthTimeoutMs: number
  /** Told of every deregistration before it is made (the journal the post step replays). */
  onLeave?: (registrations: readonly Registration[]) => void | Promise<void>
  /** Told of every registration once made again. */
  onReturn?: (registrations: readonly Registration[]) => void | Promise<void>
  /** Told of registrations of terminated hosts, dropped without registering them again. */
  onGone?: (registrations: readonly Registration[]) => void | Promise<void>
  backoff?: Partial<Backoff>
  /** min-healthy per target group, checked again at each leave (floor.ts). */
  floors?: readonly GroupFloor[]
  /** Hosts that served nothing before the deploy: their health gate does not blame it. */
  wasNotServing?: ReadonlySet<string>
}

const NOT_BLAMED =
  "it was not serving before the deploy either (see the plan), so this is not counted as the deploy's failure"

interface Out extends Registration {
  leftAt: number
}

const key = (r: Registration): string => `${r.targetGroupArn}|${r.instanceId}|${r.port ?? ''}`

export class Traffic {
  private readonly out = new Map<string, Out>()

  constructor(
    private readonly elbv2: ElasticLoadBalancingV2Client,
    private readonly options: TrafficOptions,
    private readonly runtime: Runtime
  ) {}

  /** What is out of service now (deregistered and not yet registered again). */
  outOfService(): Registration[] {
    return [...this.out.values()].map(({ leftAt: _, ...r }) => r)
  }

  /** Takes the hosts out of every target group they serve in, then waits out the drain. */
  async leaveService(hosts: readonly Host[]): Promise<LeaveResult> {
    const standby = hosts.filter((h) => h.lifecycleState === 'Standby').map((h) => h.instanceId)
    const ids = new Set(hosts.map((h) => h.instanceId).filter((id) => !standby.includes(id)))
    // What is out now is other hosts': these are not deregistered yet.
    const floors = { ...this.options, othersOut: () => this.out.size > 0 }
    const { seen, refused } = await lookUntilFloorsKept(this.elbv2, floors, this.runtime, [...ids])
    for (const id of refused.keys()) ids.delete(id)
    const registrations = seen.flatMap(({ tg, descriptions }) => inService(descriptions, tg, ids))
    const taken = new Set(registrations.map((r) => r.instanceId))
    const skipped: LeaveResult['skipped'] = [
      ...standby.map((instanceId) => ({ instanceId, reason: 'standby' as const })),
      ...[...ids]
        .filter((id) => !taken.has(id))
        .map((instanceId) => ({ instanceId, reason: 'not-registered' as const }))
    ]
    const refusedList = [...refused].map(([instanceId, reason]) => ({ instanceId, reason }))
    const base = { instanceIds: [...taken], skipped, registrations, refused: refusedList }
    if (!registrations.length) return { ...base, drainMs: 0, drainTimedOut: false }

    await this.options.onLeave?.(registrations)
    for (const [arn, regs] of byTargetGroup(registrations)) {
      const leftAt = this.runtime.clock.now()
      for (const r of regs) this.out.set(key(r), { ...r, leftAt })
      await deregister(this.elbv2, arn, regs)
    }
    const started = this.runtime.clock.now()
    const drainTimedOut = !(await this.waitDrained(registrations))
    return { ...base, drainMs: this.runtime.clock.now() - started, drainTimedOut }
  }

  /** True once no registration is draining; false when drain-timeout passed first. */
  private async waitDrained(registrations: readonly Registration[]): Promise<boolean> {
    try {
      await poll({
        label: `${describeHosts(registrations)} to drain`,
        timeoutMs: this.options.drainTimeoutMs,
        signal: this.runtime.signal,
        clock: this.runtime.clock,
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
        check: async () => {
          const draining: string[] = []
          for (const [arn, regs] of byTargetGroup(registrations)) {
            for (const d of await describeHealth(this.elbv2, arn, regs))
              if (d.TargetHealth?.State === 'draining') draining.push(d.Target?.Id ?? '?')
          }
          return draining.length
            ? { done: false, status: `draining: ${draining.join(', ')}` }
            : { done: true, value: undefined }
        }
      })
      return true
    } catch (err) {
      if (!(err instanceof PollTimeoutError)) throw err
      this.runtime.log.warning(
        `${err.message}; going on after drain-timeout (${formatDuration(this.options.drainTimeoutMs)}): requests still open on these hosts may be cut.`
      )
      return false
    }
  }

  /** Registers the hosts again exactly as they were, then waits until healthy in every group. */
  async returnToService(hosts: readonly Host[]): Promise<ReturnResult> {
    const ids = new Set(hosts.map((h) => h.instanceId))
    const back = [...this.out.values()].filter((r) => ids.has(r.instanceId))
    const instanceIds = [...new Set(back.map((r) => r.instanceId))]
    if (!back.length) {
      const none = { healthy: [], failed: [], stillNotServing: [] }
      return { instanceIds, ...none, healthWaitMs: 0, outOfServiceMs: 0 }
    }
    for (const [arn, regs] of byTargetGroup(back)) {
      await register(this.elbv2, arn, regs)
      for (const r of regs) this.out.delete(key(r))
      await this.options.onReturn?.(regs)
    }
    const started = this.runtime.clock.now()
    const unwell = await this.waitHealthy(back)
    const now = this.runtime.clock.now()
    const bad = new Set(unwell.map((f) => f.instanceId))
    // Not healthy before the deploy either: said, never blamed on the deploy.
    const before = this.options.wasNotServing ?? new Set<string>()
    const stillNotServing = unwell
      .filter((f) => before.has(f.instanceId))
      .map((f) => ({ ...f, message: `${f.message}; ${NOT_BLAMED}` }))
    for (const f of stillNotServing) this.runtime.log.warning(f.message)
    return {
      instanceIds,
      healthy: instanceIds.filter((id) => !bad.has(id)),
      failed: unwell.filter((f) => !before.has(f.instanceId)),
      stillNotServing,
      healthWaitMs: now - started,
      outOfServiceMs: now - Math.min(...back.map((r) => r.leftAt))
    }
  }

  /** The hosts not healthy in every target group by health-timeout (empty when all are). */
  private async waitHealthy(registrations: readonly Out[]): Promise<HealthFailure[]> {
    type Pending = { instanceId: string; group: string; health: TargetHealth | undefined }
    let pending: Pending[] = []
    try {
      await poll({
        label: `${describeHosts(registrations)} to be healthy`,
        timeoutMs: this.options.healthTimeoutMs,
        signal: this.runtime.signal,
        clock: this.runtime.clock,
        ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
        check: async () => {
          pending = []
          for (const [, regs] of byTargetGroup(registrations)) {
            const tg = regs[0]!
            for (const d of await describeHealth(this.elbv2, tg.targetGroupArn, regs)) {
              if (d.TargetHealth?.State === 'healthy') continue
              pending.push({
                instanceId: d.Target?.Id ?? '?',
                group: tg.targetGroupName,
                health: d.TargetHealth
              })
            }
          }
          return pending.length
            ? {
                done: false,
                status: pending.map((p) => `${p.instanceId} ${p.health?.State}`).join(', ')
              }
            : { done: true, value: undefined }
        }
      })
      return []
    } catch (err) {
      if (!(err instanceof PollTimeoutError)) throw err
      const after = formatDuration(this.options.healthTimeoutMs)
      return pending.map((p) => failure(p.instanceId, p.group, p.health, after))
    }
  }

  /**
   * Drops hosts that were terminated from what is out of service: nothing registers them again
   * (a target group refuses a terminated instance), neither here, nor restoreAll, nor the post
   * step (told through onGone).
   */
  async forget(instanceIds: readonly string[]): Promise<void> {
    const ids = new Set(instanceIds)
    const dropped = [...this.out.entries()].filter(([, r]) => ids.has(r.instanceId))
    for (const [k] of dropped) this.out.delete(k)
    const regs = dropped.map(([, { leftAt: _, ...r }]) => r)
    if (regs.length) await this.options.onGone?.(regs)
  }

  /** Registers everything still out, without waiting for health. Safe to repeat. */
  async restoreAll(): Promise<RestoreResult> {
    const result = await restoreRegistrations(this.elbv2, this.outOfService())
    for (const r of result.restored) this.out.delete(key(r))
    if (result.restored.length) await this.options.onReturn?.(result.restored)
    return result
  }
}

function failure(
  instanceId: string,
  targetGroupName: string,
  health: TargetHealth | undefined,
  after: string
): HealthFailure {
  const state = health?.State ?? 'unknown'
  const why = [health?.Reason, health?.Description].filter(Boolean).join(': ')
  return {
    instanceId,
    targetGroupName,
    state,
    ...(health?.Reason ? { reasonCode: health.Reason } : {}),
    ...(health?.Description ? { description: health.Description } : {}),
    message: `${instanceId} not healthy in target group ${targetGroupName} after ${after}: ${state}${why ? ` (${why})` : ''}`
  }
}

function describeHosts(registrations: readonly Registration[]): string {
  return describeIds([...new Set(registrations.map((r) => r.instanceId))])
}

function describeIds(ids: readonly string[]): string {
  return ids.length === 1 ? `host ${ids[0]}` : `${ids.length} hosts (${ids.join(', ')})`
}
