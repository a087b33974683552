/** Capacity from the targets' health: the floors, the refusal, unhealthy-first, each leave. */
import { describe, expect, it } from '@jest/globals'
import type { TargetHealthDescription } from '@aws-sdk/client-elastic-load-balancing-v2'
import { healthCapacity } from '../../src/traffic/capacity.js'
import { belowFloor } from '../../src/traffic/floor.js'
import type { GroupHealth } from '../../src/traffic/health.js'
import { checkUnhealthyFirst } from '../../src/traffic/settings.js'

const all = { kind: 'percent' as const, value: 100 }
const web = (healthy: number, sick: string[]): GroupHealth => ({
  arn: 'arn:web',
  name: 'web',
  targets: healthy + sick.length,
  healthy: Array.from({ length: healthy }, (_, i) => `i-h${i}`),
  notServing: sick.map((id) => ({
    instanceId: id,
    state: 'unhealthy',
    reasonCode: 'Target.Timeout'
  }))
})

describe('capacity from the targets health', () => {
  it('counts every target, and refuses when no healthy one may leave, naming the others', () => {
    expect(() =>
      healthCapacity([web(4, ['i-s1', 'i-s2'])], { kind: 'percent', value: 66 }, all, false)
    ).toThrow(
      '"66%" keeps 4 of the 6 target(s) of target group web healthy, and only 4 are healthy now: no host can leave it without going below. Not serving: i-s1 (unhealthy: Target.Timeout), i-s2 (unhealthy: Target.Timeout).'
    )
  })

  it('with unhealthy-first, gives the unhealthy hosts slots (they cost nothing)', () => {
    const cap = healthCapacity(
      [web(4, ['i-s1', 'i-s2'])],
      { kind: 'percent', value: 66 },
      all,
      true
    )
    expect(cap).toMatchObject({ inService: 4, minHealthy: 4, maxOutOfService: 2 })
  })

  it('caps by the healthy targets above the floor, and accepts a floor of 0', () => {
    expect(
      healthCapacity([web(5, ['i-s1'])], { kind: 'count', value: 3 }, all, false)
    ).toMatchObject({ minHealthy: 3, maxOutOfService: 2 })
    expect(
      healthCapacity([web(0, ['i-s1'])], { kind: 'count', value: 0 }, all, false)
    ).toMatchObject({ maxOutOfService: 1 })
  })

  it('keeps a healthy host in service when its leave would go below the floor', () => {
    const floor = { arn: 'arn:web', name: 'web', targets: 4, healthy: 3, minHealthy: 2 }
    const d = (id: string, state: 'healthy' | 'unhealthy'): TargetHealthDescription => ({
      Target: { Id: id },
      TargetHealth: { State: state }
    })
    const seen = [
      {
        floor,
        descriptions: [d('a', 'healthy'), d('b', 'healthy'), d('c', 'healthy'), d('x', 'unhealthy')]
      }
    ]
    const refused = belowFloor(seen, ['x', 'a', 'b'])
    expect([...refused.keys()]).toEqual(['b'])
    expect(refused.get('b')).toMatch(
      /^not taken out of target group web: 3 of its 4 target\(s\) are healthy now, and min-healthy keeps 2/
    )
  })

  it('refuses unhealthy-first without target groups', () => {
    expect(() => checkUnhealthyFirst(true, { auto: false, given: [] })).toThrow(
      'Setting "unhealthyFirst": true needs target groups'
    )
    expect(() => checkUnhealthyFirst(true, { auto: true, given: [] })).not.toThrow()
  })
})
