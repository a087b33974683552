/**
 * A scripted SSM Run Command world for unit tests and benchmarks: each host has a duration
 * and an outcome; commands run on a clock (virtual in tests, real in benchmarks) and answer
 * SendCommand, ListCommands, ListCommandInvocations, GetCommandInvocation, CancelCommand and
 * DescribeInstanceInformation the way SSM does, including the moments right after
 * SendCommand when a command or invocation is not visible yet, and throttling.
 *
 * A host can be terminated at a moment (`terminate`): as on AWS, its invocation then stays
 * InProgress until the execution timeout and reads TimedOut, a later SendCommand to it fails
 * with InvalidInstanceId, and `goneHosts` (the rollout's hook, as EC2 would answer it) names it.
 *
 * Wire it with aws-sdk-client-mock (`fleet.mock(mockClient(SSMClient))`) or as the HTTP
 * handler of a real SSMClient (`fleet.client()`), so the SDK's own retries run too.
 */
import type { AwsStub } from 'aws-sdk-client-mock'
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient
} from '@aws-sdk/client-ssm'
import { Readable } from 'node:stream'

// Kept here too so imports written before the split keep compiling.
export { VirtualClock } from './virtual-clock.js'

export type Outcome =
  'Success' | 'Failed' | 'ExecutionTimedOut' | 'DeliveryTimedOut' | 'Undeliverable'

export interface SimHost {
  durationMs: number
  outcome: Outcome
  exitCode: number
  stdout: string
  stderr: string
  /** The agent's PingStatus, or 'none' for a host SSM does not manage. */
  ping: string
  /** How the host runs a command whose script contains the key (e.g. a failing run-once). */
  scripts?: Record<string, Partial<Omit<SimHost, 'ping' | 'scripts'>>>
}

export interface FleetOptions {
  /** A new command is invisible to ListCommands (and unknown to look-ups) for this long. */
  visibilityDelayMs?: number
  /** GetCommandInvocation answers InvocationDoesNotExist for this long after SendCommand. */
  invocationDelayMs?: number
  /** A host starts running a command this long after SendCommand (the agent's delivery). */
  deliveryDelayMs?: number
  /** Throttle call number n (1-based, over all APIs) when this says so. */
  throttle?: (api: string, n: number) => boolean
}

interface SimCommand {
  id: string
  instanceIds: string[]
  sentAt: number
  executionTimeoutMs: number
  cancelledAt?: number
  /** CancelCommand with InstanceIds: when each of those hosts was cancelled. */
  cancelledHosts: Map<string, number>
  input: Record<string, unknown>
}

export class ThrottlingError extends Error {
  override name = 'ThrottlingException'
  readonly $metadata = { httpStatusCode: 400 }
  readonly $fault = 'client'
}

class ServiceError extends Error {
  readonly $metadata = { httpStatusCode: 400 }
  readonly $fault = 'client'
  constructor(name: string, message: string) {
    super(message)
    this.name = name
  }
}

const DEFAULT_HOST: SimHost = {
  durationMs: 5_000,
  outcome: 'Success',
  exitCode: 0,
  stdout: 'deployed\n',
  stderr: '',
  ping: 'Online'
}

export class SimulatedFleet {
  readonly calls: Record<string, number> = {}
  readonly commands: SimCommand[] = []
  private totalCalls = 0
  private readonly hosts = new Map<string, SimHost>()
  /** Instance id -> when it was terminated. */
  private readonly terminated = new Map<string, number>()
  /** Every goneHosts call's instance ids, in order. */
  readonly goneCalls: string[][] = []

  constructor(
    readonly clock: { now(): number },
    hosts: Record<string, Partial<SimHost>> | string[],
    readonly options: FleetOptions = {}
  ) {
    const entries = Array.isArray(hosts)
      ? hosts.map((id) => [id, {}] as const)
      : Object.entries(hosts)
    for (const [id, h] of entries) this.hosts.set(id, { ...DEFAULT_HOST, ...h })
  }

  /** `i-000…001`, `i-000…002`... */
  static ids(n: number): string[] {
    return Array.from({ length: n }, (_, i) => `i-${String(i + 1).padStart(17, '0')}`)
  }

  setHost(id: string, host: Partial<SimHost>): void {
    this.hosts.set(id, { ...(this.hosts.get(id) ?? DEFAULT_HOST), ...host })
  }

  /** Terminates a host at `at` (now by default): scale-in or a spot reclaim. */
  terminate(id: string, at = this.clock.now()): void {
    this.terminated.set(id, at)
  }

  /** The rollout's goneHosts hook, answered as EC2 would: terminated hosts, from their moment. */
  readonly goneHosts = async (ids: readonly string[]): Promise<Map<string, string>> => {
    this.goneCalls.push([...ids])
    const now = this.clock.now()
    const gone = new Map<string, string>()
    for (const id of ids)
      if ((this.terminated.get(id) ?? Infinity) <= now) gone.set(id, 'terminated')
    return gone
  }

  /** Most hosts running at one instant over the whole run. */
  maxConcurrency(): number {
    const events: Array<[number, number]> = []
    for (const c of this.commands) {
      for (const id of c.instanceIds) {
        const h = this.hostFor(c, id)
        if (h.outcome === 'DeliveryTimedOut' || h.outcome === 'Undeliverable') continue
        events.push([c.sentAt, 1], [this.finishAt(c, h, id), -1])
      }
    }
    events.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    let running = 0
    let max = 0
    for (const [, d] of events) max = Math.max(max, (running += d))
    return max
  }

  /** When the last host finished (the benchmark's reference for lag). */
  lastFinish(): number {
    let last = 0
    for (const c of this.commands)
      for (const id of c.instanceIds)
        last = Math.max(last, this.finishAt(c, this.hostFor(c, id), id))
    return last
  }

  /** The instance ids each command was sent to, in order. */
  batches(): string[][] {
    return this.commands.map((c) => c.instanceIds)
  }

  /** The script sent to a host (the last command it got). */
  scriptFor(instanceId: string): string {
    const c = [...this.commands].reverse().find((x) => x.instanceIds.includes(instanceId))
    const params = c?.input['Parameters'] as Record<string, string[]> | undefined
    return (params?.['commands'] ?? []).join('\n')
  }

  handle(api: string, input: Record<string, unknown>): unknown {
    this.totalCalls++
    this.calls[api] = (this.calls[api] ?? 0) + 1
    if (this.options.throttle?.(api, this.totalCalls)) throw new ThrottlingError('Rate exceeded')
    const now = this.clock.now()
    switch (api) {
      case 'DescribeInstanceInformation':
        return this.describeInstanceInformation(input)
      case 'SendCommand':
        return this.send(input, now)
      case 'ListCommands':
        return this.listCommands(input, now)
      case 'ListCommandInvocations':
        return this.listInvocations(input, now)
      case 'GetCommandInvocation':
        return this.getInvocation(input, now)
      case 'CancelCommand': {
        const c = this.command(String(input['CommandId']), now)
        const only = input['InstanceIds'] as string[] | undefined
        if (!only) c.cancelledAt ??= now
        for (const id of only ?? []) if (!c.cancelledHosts.has(id)) c.cancelledHosts.set(id, now)
        return {}
      }
      default:
        throw new Error(`SimulatedFleet does not answer ${api}`)
    }
  }

  /** Wires the fleet into an aws-sdk-client-mock stub of SSMClient. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  mock(stub: AwsStub<any, any, any>): this {
    const on = (cmd: unknown, api: string): void => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      stub.on(cmd as any).callsFake((i: Record<string, unknown>) => this.handle(api, i))
    }
    on(DescribeInstanceInformationCommand, 'DescribeInstanceInformation')
    on(SendCommandCommand, 'SendCommand')
    on(ListCommandsCommand, 'ListCommands')
    on(ListCommandInvocationsCommand, 'ListCommandInvocations')
    on(GetCommandInvocationCommand, 'GetCommandInvocation')
    on(CancelCommandCommand, 'CancelCommand')
    return this
  }

  /** A real SSMClient whose HTTP layer is this fleet (JSON 1.1 protocol): SDK retries run. */
  client(config: { maxAttempts?: number; retryMode?: string } = {}): SSMClient {
    return new SSMClient({
      region: 'us-east-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: config.maxAttempts ?? 5,
      retryMode: config.retryMode ?? 'adaptive',
      requestHandler: {
        handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
          const api = String(request.headers['x-amz-target']).split('.').pop()!
          const raw = request.body
          const text =
            raw instanceof Uint8Array
              ? // The bytes themselves: Buffer.from(raw) would take the SDK's string view (valueOf) and warn.
                Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
              : String(raw ?? '{}')
          const input = JSON.parse(text || '{}') as Record<string, unknown>
          let status = 200
          let body: unknown
          try {
            body = toWire(this.handle(api, input))
          } catch (err) {
            const e = err as Error
            status = 400
            body = { __type: e.name, message: e.message }
          }
          // The shape of a smithy HttpResponse (checked structurally by the SDK).
          const response = {
            statusCode: status,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(JSON.stringify(body))])
          }
          return { response }
        }
      }
    })
  }

  private host(id: string): SimHost {
    return this.hosts.get(id) ?? DEFAULT_HOST
  }

  /** The host as it runs this command's script. */
  private hostFor(c: SimCommand, id: string): SimHost {
    const h = this.host(id)
    if (!h.scripts) return h
    const script = ((c.input['Parameters'] as Record<string, string[]>)['commands'] ?? []).join(
      '\n'
    )
    const match = Object.entries(h.scripts).find(([key]) => script.includes(key))
    return match ? { ...h, ...match[1] } : h
  }

  /** Each command sent to a host, as its script, in order. */
  scriptsFor(instanceId: string): string[] {
    return this.commands
      .filter((c) => c.instanceIds.includes(instanceId))
      .map((c) =>
        ((c.input['Parameters'] as Record<string, string[]>)['commands'] ?? []).join('\n')
      )
  }

  private startAt(c: SimCommand): number {
    return c.sentAt + (this.options.deliveryDelayMs ?? 0)
  }

  private finishAt(c: SimCommand, h: SimHost, id?: string): number {
    const natural = this.startAt(c) + Math.min(h.durationMs, c.executionTimeoutMs)
    const cancelledAt = this.cancelledAt(c, id)
    return cancelledAt !== undefined ? Math.min(natural, cancelledAt) : natural
  }

  /** When the command was cancelled on this host (whole or by instance), if it was. */
  private cancelledAt(c: SimCommand, id?: string): number | undefined {
    const byHost = id === undefined ? undefined : c.cancelledHosts.get(id)
    if (byHost === undefined) return c.cancelledAt
    return c.cancelledAt === undefined ? byHost : Math.min(byHost, c.cancelledAt)
  }

  /** Terminated before its command would have ended: nobody reports back until the timeout. */
  private lostAt(c: SimCommand, h: SimHost, id: string): number | undefined {
    const at = this.terminated.get(id)
    return at !== undefined && at < this.startAt(c) + h.durationMs ? at : undefined
  }

  private describeInstanceInformation(input: Record<string, unknown>): unknown {
    const filters = (input['Filters'] as Array<{ Key: string; Values: string[] }> | undefined) ?? []
    const ids = filters.find((f) => f.Key === 'InstanceIds')?.Values ?? [...this.hosts.keys()]
    if (ids.length > 50) throw new ServiceError('InvalidFilterValue', 'at most 50 instance ids')
    const list = ids
      .filter((id) => this.hosts.has(id) && this.host(id).ping !== 'none')
      .map((id) => ({ InstanceId: id, PingStatus: this.host(id).ping, PlatformType: 'Linux' }))
    return { InstanceInformationList: list }
  }

  private send(input: Record<string, unknown>, now: number): unknown {
    const ids = input['InstanceIds'] as string[]
    if (ids.length > 50) throw new ServiceError('ValidationException', 'at most 50 InstanceIds')
    for (const id of ids) {
      const gone = (this.terminated.get(id) ?? Infinity) <= now
      if (!this.hosts.has(id) || this.host(id).ping !== 'Online' || gone) {
        throw new ServiceError('InvalidInstanceId', 'Instances not in a valid state for account')
      }
    }
    const params = input['Parameters'] as Record<string, string[]>
    const c: SimCommand = {
      id: `cmd-${String(this.commands.length + 1).padStart(4, '0')}`,
      instanceIds: [...ids],
      sentAt: now,
      executionTimeoutMs: Number(params['executionTimeout']?.[0] ?? 3600) * 1000,
      cancelledHosts: new Map(),
      input
    }
    this.commands.push(c)
    return {
      Command: {
        CommandId: c.id,
        Status: 'Pending',
        TargetCount: ids.length,
        CompletedCount: 0,
        RequestedDateTime: new Date(now)
      }
    }
  }

  private visible(c: SimCommand, now: number): boolean {
    return now - c.sentAt >= (this.options.visibilityDelayMs ?? 0)
  }

  private command(id: string, now: number): SimCommand {
    const c = this.commands.find((x) => x.id === id)
    if (!c || !this.visible(c, now))
      throw new ServiceError('InvalidCommandId', `Invalid command id ${id}`)
    return c
  }

  private invocation(c: SimCommand, id: string, now: number) {
    const h = this.hostFor(c, id)
    const cancelledAt = this.cancelledAt(c, id)
    const lost = this.lostAt(c, h, id)
    const timesOut = c.sentAt + c.executionTimeoutMs
    const finish =
      lost !== undefined ? Math.min(timesOut, cancelledAt ?? Infinity) : this.finishAt(c, h, id)
    const cancelled =
      cancelledAt !== undefined &&
      cancelledAt <= now &&
      cancelledAt < (lost !== undefined ? timesOut : this.startAt(c) + h.durationMs)
    let status: string
    let details: string
    let code = -1
    if (lost !== undefined && !cancelled)
      [status, details] = now < timesOut ? ['InProgress', 'InProgress'] : ['TimedOut', 'TimedOut']
    else if (h.outcome === 'Undeliverable') [status, details] = ['Failed', 'Undeliverable']
    else if (h.outcome === 'DeliveryTimedOut' && now >= c.sentAt + 30_000)
      [status, details] = ['TimedOut', 'DeliveryTimedOut']
    else if (cancelled) [status, details] = ['Cancelled', 'Cancelled']
    else if (now < finish || h.outcome === 'DeliveryTimedOut')
      [status, details] = ['InProgress', 'InProgress']
    else if (h.durationMs > c.executionTimeoutMs || h.outcome === 'ExecutionTimedOut') {
      ;[status, details, code] = ['TimedOut', 'ExecutionTimedOut', 124]
    } else if (h.outcome === 'Failed')
      [status, details, code] = ['Failed', 'Failed', h.exitCode || 1]
    else [status, details, code] = ['Success', 'Success', 0]
    const ran = code >= 0 || cancelled
    return {
      status,
      details,
      code,
      start: ran ? new Date(this.startAt(c)) : undefined,
      end: code >= 0 ? new Date(finish) : cancelled ? new Date(cancelledAt!) : undefined,
      stdout: ran ? h.stdout : '',
      stderr: code > 0 ? h.stderr : ''
    }
  }

  private commandStatus(c: SimCommand, now: number) {
    const invs = c.instanceIds.map((id) => this.invocation(c, id, now))
    const open = invs.filter((i) => i.status === 'InProgress').length
    const errors = invs.filter((i) => i.status === 'Failed' || i.status === 'TimedOut').length
    const status =
      open > 0
        ? 'InProgress'
        : invs.some((i) => i.status === 'Cancelled')
          ? 'Cancelled'
          : errors > 0
            ? 'Failed'
            : 'Success'
    return {
      CommandId: c.id,
      Status: status,
      TargetCount: c.instanceIds.length,
      CompletedCount: invs.length - open,
      ErrorCount: invs.filter((i) => i.status === 'Failed' || i.details === 'ExecutionTimedOut')
        .length,
      DeliveryTimedOutCount: invs.filter((i) => i.details === 'DeliveryTimedOut').length,
      RequestedDateTime: new Date(c.sentAt)
    }
  }

  private listCommands(input: Record<string, unknown>, now: number): unknown {
    if (input['CommandId'])
      return { Commands: [this.commandStatus(this.command(String(input['CommandId']), now), now)] }
    const filters = (input['Filters'] as Array<{ key: string; value: string }> | undefined) ?? []
    const after = filters.find((f) => f.key === 'InvokedAfter')
    const matching = this.commands
      .filter((c) => this.visible(c, now))
      .filter((c) => !after || c.sentAt >= Date.parse(after.value))
      .reverse() // newest first, as SSM lists them
    const start = Number(input['NextToken'] ?? 0)
    const size = Number(input['MaxResults'] ?? 50)
    const page = matching.slice(start, start + size)
    return {
      Commands: page.map((c) => this.commandStatus(c, now)),
      ...(start + size < matching.length ? { NextToken: String(start + size) } : {})
    }
  }

  private listInvocations(input: Record<string, unknown>, now: number): unknown {
    const c = this.command(String(input['CommandId']), now)
    const start = Number(input['NextToken'] ?? 0)
    const size = Number(input['MaxResults'] ?? 50)
    const ids = c.instanceIds.slice(start, start + size)
    return {
      CommandInvocations: ids.map((id) => {
        const i = this.invocation(c, id, now)
        const output = (i.stdout + (i.stderr ? `\n----------ERROR-------\n${i.stderr}` : '')).slice(
          0,
          2500
        )
        return {
          CommandId: c.id,
          InstanceId: id,
          Status: i.status,
          StatusDetails: i.details,
          RequestedDateTime: new Date(c.sentAt),
          ...(input['Details']
            ? {
                CommandPlugins: [
                  {
                    Name: 'aws:runShellScript',
                    Status: i.status,
                    StatusDetails: i.details,
                    ResponseCode: i.code,
                    ...(i.start ? { ResponseStartDateTime: i.start } : {}),
                    ...(i.end ? { ResponseFinishDateTime: i.end } : {}),
                    Output: output
                  }
                ]
              }
            : {})
        }
      }),
      ...(start + size < c.instanceIds.length ? { NextToken: String(start + size) } : {})
    }
  }

  private getInvocation(input: Record<string, unknown>, now: number): unknown {
    const c = this.commands.find((x) => x.id === input['CommandId'])
    const id = String(input['InstanceId'])
    if (
      !c ||
      !c.instanceIds.includes(id) ||
      now - c.sentAt < (this.options.invocationDelayMs ?? 0)
    ) {
      throw new ServiceError(
        'InvocationDoesNotExist',
        'The command ID and instance ID you specified did not match any invocations'
      )
    }
    const i = this.invocation(c, id, now)
    return {
      CommandId: c.id,
      InstanceId: id,
      Status: i.status,
      StatusDetails: i.details,
      ResponseCode: i.code,
      StandardOutputContent: i.stdout.slice(0, 24_000),
      StandardErrorContent: i.stderr.slice(0, 24_000)
    }
  }
}

/** awsJson1_1 sends timestamps as epoch seconds. */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000
  if (Array.isArray(value)) return value.map(toWire)
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toWire(v)]))
  }
  return value
}
