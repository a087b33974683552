/**
 * resolveHosts against the emulator over HTTP: a realistic fleet of 300 instances in many
 * reservations (app servers beside staging, web and worker ones, stopped and terminated ones,
 * two Auto Scaling groups), seeded once and queried many ways.
 */
import { beforeAll, describe, expect, it } from '@jest/globals'
import { RunInstancesCommand, type EC2Client } from '@aws-sdk/client-ec2'
import { resolveHosts, type HostQuery } from '../../src/hosts/resolve.js'
import { parseStates, parseTags } from '../../src/actions/shared/parse.js'
import type { InstanceState } from '../../src/model/fleet.js'
import { IMAGE_ID, codeVolumeWorld, sleep, stop, terminate } from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'

const emulator = useEmulator({ resetBeforeEach: false })

interface Seeded {
  id: string
  launched: number
  tags: Record<string, string>
  state: 'running' | 'stopped' | 'terminated'
  group?: string
}

/** What the world holds, by id, as recorded when it was seeded (not read back). */
const world = new Map<string, Seeded>()

async function launchMany(
  ec2: EC2Client,
  total: number,
  perReservation: number,
  tags: Record<string, string>
): Promise<string[]> {
  const ids: string[] = []
  for (let left = total; left > 0; left -= perReservation) {
    const count = Math.min(perReservation, left)
    const out = await ec2.send(
      new RunInstancesCommand({
        ImageId: IMAGE_ID,
        MinCount: count,
        MaxCount: count,
        InstanceType: 't3.micro',
        TagSpecifications: [
          {
            ResourceType: 'instance',
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value }))
          }
        ]
      })
    )
    for (const i of out.Instances ?? []) {
      ids.push(i.InstanceId!)
      world.set(i.InstanceId!, {
        id: i.InstanceId!,
        launched: i.LaunchTime!.getTime(),
        tags,
        state: 'running'
      })
    }
  }
  return ids
}

/** The ids the world says match, in the documented order: launch time, then id. */
function expected(filter: (s: Seeded) => boolean): string[] {
  return [...world.values()]
    .filter(filter)
    .sort((a, b) => a.launched - b.launched || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((s) => s.id)
}

const q = (tags: string, states = 'running', asgName?: string): HostQuery => ({
  tags: parseTags('tags', tags),
  states: parseStates('states', states),
  ...(asgName ? { asgNames: [asgName] } : {})
})

const has =
  (tags: Record<string, string[]>, states: InstanceState[] = ['running']) =>
  (s: Seeded): boolean =>
    states.includes(s.state) &&
    Object.entries(tags).every(([k, values]) => values.includes(s.tags[k] ?? '\u0000'))

let appAsg: string[] = []
let jobsAsg: string[] = []

beforeAll(async () => {
  const { ec2 } = emulator.clients
  const c = emulator.clients
  await emulator.reset()
  world.clear()

  // The oldest production app servers, then, a second later, everything else: the order
  // must follow launch time first, whatever the ids.
  await launchMany(ec2, 20, 4, { Role: 'app', Environment: 'production' })
  await sleep(1100)
  await launchMany(ec2, 20, 5, { Role: 'app', Environment: 'production' })
  await launchMany(ec2, 20, 5, { Role: 'web', Environment: 'production' })
  await launchMany(ec2, 30, 3, { Role: 'app', Environment: 'staging' })
  await launchMany(ec2, 60, 6, { Role: 'worker', Environment: 'production' })
  const stopped = await launchMany(ec2, 10, 2, { Role: 'app', Environment: 'production' })
  const terminated = await launchMany(ec2, 10, 5, { Role: 'app', Environment: 'production' })
  await launchMany(ec2, 120, 3, { Role: 'db', Environment: 'production', Team: 'data' })
  await stop(ec2, stopped)
  await terminate(ec2, terminated)
  for (const id of stopped) world.get(id)!.state = 'stopped'
  for (const id of terminated) world.get(id)!.state = 'terminated'

  const app = await codeVolumeWorld(c, { name: 'app', size: 6 })
  const jobs = await codeVolumeWorld(c, {
    name: 'jobs',
    size: 4,
    tags: { Role: 'worker', Environment: 'production' }
  })
  appAsg = app.instanceIds
  jobsAsg = jobs.instanceIds
  // Group members' launch times come from the emulator; read them through a query below.
  const members = await resolveHosts(c, q('Role=app,worker', 'running'))
  for (const [group, ids, tags] of [
    ['app-asg', appAsg, { Role: 'app', Environment: 'production' }],
    ['jobs-asg', jobsAsg, { Role: 'worker', Environment: 'production' }]
  ] as const) {
    for (const id of ids) {
      const host = members.hosts.find((h) => h.instanceId === id)!
      world.set(id, {
        id,
        launched: Date.parse(host.launchTime),
        tags,
        state: 'running',
        group
      })
    }
  }
}, 120_000)

describe('resolveHosts over a 300-instance fleet', () => {
  it('seeded the world it meant to', () => {
    expect(world.size).toBe(300)
    expect(appAsg).toHaveLength(6)
    expect(jobsAsg).toHaveLength(4)
    // Launch time must matter for the order, not only the ids.
    const prodApp = expected(has({ Role: ['app'], Environment: ['production'] }))
    expect(prodApp).not.toEqual([...prodApp].sort())
  })

  it('ANDs keys: Role=app, Environment=production, running only; oldest first', async () => {
    const { hosts, calls } = await resolveHosts(
      emulator.clients,
      q('Role=app\nEnvironment=production')
    )
    const ids = expected(has({ Role: ['app'], Environment: ['production'] }))
    expect(ids).toHaveLength(46) // 40 launched + 6 group members; stopped and terminated left out
    expect(hosts.map((h) => h.instanceId)).toEqual(ids)
    expect(hosts.every((h) => h.state === 'running' && h.tags['Role'] === 'app')).toBe(true)
    expect(calls).toEqual({ DescribeInstances: 1 })
    // The group members carry what the template and the group gave them.
    const member = hosts.find((h) => h.instanceId === appAsg[0])!
    expect(member.autoScalingGroup).toBe('app-asg')
    expect(member.launchTemplateId).toMatch(/^lt-/)
  })

  it('ORs values of one key: Role=app,web in production', async () => {
    const { hosts } = await resolveHosts(emulator.clients, q('Role=app,web,Environment=production'))
    const ids = expected(has({ Role: ['app', 'web'], Environment: ['production'] }))
    expect(ids).toHaveLength(66)
    expect(hosts.map((h) => h.instanceId)).toEqual(ids)
  })

  it('ORs values given on repeated lines: both environments', async () => {
    const { hosts } = await resolveHosts(
      emulator.clients,
      q('Role=app\nEnvironment=production\nEnvironment=staging')
    )
    const ids = expected(has({ Role: ['app'], Environment: ['production', 'staging'] }))
    expect(ids).toHaveLength(76)
    expect(hosts.map((h) => h.instanceId)).toEqual(ids)
  })

  it('matches wildcards', async () => {
    const { hosts } = await resolveHosts(emulator.clients, q('Role=work*,Environment=prod?ction'))
    const ids = expected(has({ Role: ['worker'], Environment: ['production'] }))
    expect(ids).toHaveLength(64)
    expect(hosts.map((h) => h.instanceId)).toEqual(ids)
  })

  it('takes the states asked for', async () => {
    const both = await resolveHosts(
      emulator.clients,
      q('Role=app,Environment=production', 'running,stopped')
    )
    const ids = expected(
      has({ Role: ['app'], Environment: ['production'] }, ['running', 'stopped'])
    )
    expect(ids).toHaveLength(56)
    expect(both.hosts.map((h) => h.instanceId)).toEqual(ids)

    const gone = await resolveHosts(emulator.clients, q('Role=app', 'terminated'))
    expect(gone.hosts.map((h) => h.instanceId)).toEqual(
      expected(has({ Role: ['app'] }, ['terminated']))
    )
    expect(gone.hosts).toHaveLength(10)
    expect(gone.hosts.every((h) => h.state === 'terminated')).toBe(true)
  })

  it('finds nothing for a tag nobody carries', async () => {
    const { hosts } = await resolveHosts(emulator.clients, q('Role=app,Environment=qa'))
    expect(hosts).toEqual([])
  })

  it('reads every page: 280 running instances in some 80 reservations, pages of 50', async () => {
    const paged = await resolveHosts(emulator.clients, q('Environment=*'), { pageSize: 50 })
    const ids = expected(has({ Environment: ['production', 'staging'] }))
    expect(ids).toHaveLength(280) // 300 less the stopped and terminated
    expect(paged.hosts.map((h) => h.instanceId)).toEqual(ids)
    expect(paged.calls['DescribeInstances']).toBeGreaterThan(1)

    const whole = await resolveHosts(emulator.clients, q('Environment=*'))
    expect(whole.hosts.map((h) => h.instanceId)).toEqual(ids)

    const small = await resolveHosts(emulator.clients, q('Role=app,Environment=production'), {
      pageSize: 5
    })
    expect(small.hosts.map((h) => h.instanceId)).toEqual(
      expected(has({ Role: ['app'], Environment: ['production'] }))
    )
    // 9 reservations launched directly, the group's on top: at least two pages of 5.
    expect(small.calls['DescribeInstances']).toBeGreaterThanOrEqual(2)
  })

  it('asg-name alone: the InService members of that group only', async () => {
    const { hosts, calls } = await resolveHosts(emulator.clients, q('', 'running', 'app-asg'))
    expect(hosts.map((h) => h.instanceId)).toEqual(expected((s) => s.group === 'app-asg'))
    expect([...hosts.map((h) => h.instanceId)].sort()).toEqual([...appAsg].sort())
    expect(calls).toEqual({ DescribeAutoScalingGroups: 1, DescribeInstances: 1 })
  })

  it('asg-name with tags: both must match', async () => {
    const jobs = await resolveHosts(emulator.clients, q('Role=worker', 'running', 'jobs-asg'))
    expect(jobs.hosts.map((h) => h.instanceId)).toEqual(expected((s) => s.group === 'jobs-asg'))

    const none = await resolveHosts(emulator.clients, q('Role=worker', 'running', 'app-asg'))
    expect(none.hosts).toEqual([])
  })

  it('an unknown asg-name is an input error, found before any DescribeInstances', async () => {
    const err = await resolveHosts(emulator.clients, q('Role=app', 'running', 'no-such-asg')).catch(
      (e: unknown) => e
    )
    expect((err as Error).message).toBe(
      'Setting "groups": Auto Scaling group "no-such-asg" does not exist in this region. Expected the name of an existing group.'
    )
  })
})
