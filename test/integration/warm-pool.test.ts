import { describe, expect, it } from '@jest/globals'
import { DescribeWarmPoolCommand, PutWarmPoolCommand } from '@aws-sdk/client-auto-scaling'
import {
  CreateLaunchTemplateVersionCommand,
  DescribeInstancesCommand,
  RunInstancesCommand
} from '@aws-sdk/client-ec2'
import { snapshotReport } from '../../src/report/snapshot.js'
import { makeRuntime } from '../../src/runtime.js'
import { runPublishFlow } from '../../src/flows/publish.js'
import type { WarmPoolMode } from '../../src/snapshot/ops/warm-pool.js'
import { refreshWarmPool } from '../../src/snapshot/ops/warm-pool.js'
import { publishFlowOptions } from '../../support/fixtures.js'
import { codeVolumeWorld, type TestClients } from '../../support/emulator/world.js'
import { useEmulator } from '../helpers/emulator.js'
import { RecordingLog } from '../helpers/log.js'

const emulator = useEmulator()

/** A warm instance of `group` prepared from `version` (the emulator's emulator:warm-pool tag). */
async function warm(c: TestClients, templateId: string, version: string, group: string) {
  const out = await c.ec2.send(
    new RunInstancesCommand({
      MinCount: 1,
      MaxCount: 1,
      LaunchTemplate: { LaunchTemplateId: templateId, Version: version },
      TagSpecifications: [
        { ResourceType: 'instance', Tags: [{ Key: 'emulator:warm-pool', Value: group }] }
      ]
    })
  )
  return out.Instances![0]!.InstanceId!
}

const poolIds = async (c: TestClients, group: string) =>
  (
    (await c.autoscaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: group })))
      .Instances ?? []
  )
    .map((i) => i.InstanceId!)
    .sort()

/** One host, and a warm pool of one instance prepared from v1 (stale once v2 is published). */
async function oneStaleWarmInstance(c: TestClients) {
  const world = await codeVolumeWorld(c, { size: 1 })
  const group = world.asgName
  await c.autoscaling.send(
    new PutWarmPoolCommand({ AutoScalingGroupName: group, MinSize: 1, PoolState: 'Stopped' })
  )
  return { world, group, stale: await warm(c, world.launchTemplateId, '1', group) }
}

describe('warm pools after a publish (issue 8, item 3)', () => {
  it('replaces the warm instances prepared from the old version and keeps the fresh ones', async () => {
    const c = emulator.clients
    const world = await codeVolumeWorld(c, { size: 1 })
    const group = world.asgName
    await c.autoscaling.send(
      new PutWarmPoolCommand({ AutoScalingGroupName: group, MinSize: 2, PoolState: 'Stopped' })
    )
    await c.ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: world.launchTemplateId,
        SourceVersion: '1',
        LaunchTemplateData: {}
      })
    )
    const stale = await warm(c, world.launchTemplateId, '1', group)
    const fresh = await warm(c, world.launchTemplateId, '2', group)
    expect(await poolIds(c, group)).toEqual([stale, fresh].sort())

    const result = await refreshWarmPool(
      c.autoscaling,
      group,
      { launchTemplateId: world.launchTemplateId, version: 2 },
      { mode: 'replace', dryRun: false, log: new RecordingLog() }
    )
    expect(result.replaced).toEqual([stale])
    // End state: the old-code instance is gone, the fresh one still waits in the pool.
    expect(await poolIds(c, group)).toEqual([fresh])
    const described = await c.ec2.send(new DescribeInstancesCommand({ InstanceIds: [stale] }))
    expect(described.Reservations![0]!.Instances![0]!.State!.Name).toMatch(
      /^(shutting-down|terminated)$/
    )
    // The pool's configuration is untouched.
    const pool = await c.autoscaling.send(
      new DescribeWarmPoolCommand({ AutoScalingGroupName: group })
    )
    expect(pool.WarmPoolConfiguration?.MinSize).toBe(2)
  })

  it('with warm-pools: keep, leaves the old-code instances in the pool and warns naming them', async () => {
    const c = emulator.clients
    const { world, group, stale } = await oneStaleWarmInstance(c)
    const log = new RecordingLog()
    const result = await refreshWarmPool(
      c.autoscaling,
      group,
      { launchTemplateId: world.launchTemplateId, version: 2 },
      { mode: 'keep', dryRun: false, log }
    )
    expect(result.kept).toEqual([stale])
    expect(await poolIds(c, group)).toEqual([stale])
    expect(log.messages('warning')[0]).toContain(
      `will serve OLD code when they go into service: ${stale}`
    )
  })

  /** The snapshot action publishing v2 of a template whose group has one v1 warm instance. */
  async function snapshotWithWarmPool(mode: WarmPoolMode) {
    const c = emulator.clients
    const { world, group, stale } = await oneStaleWarmInstance(c)
    const options = publishFlowOptions(world.instanceIds[0]!, world.launchTemplateId, {
      timeoutMs: 60_000,
      warmPools: mode,
      retention: { keepSnapshots: 0, keepVersions: 0 }
    })
    const log = new RecordingLog()
    const result = await runPublishFlow(c, options, makeRuntime({ log }))
    expect(result.failure).toBeUndefined()
    expect(result.targets[0]?.published?.version).toBe(2)
    return { result, log, group, stale, pool: await poolIds(c, group) }
  }

  it('the snapshot action, warm-pools: replace, replaces them after its publish, as deploy does', async () => {
    const { result, group, stale, pool } = await snapshotWithWarmPool('replace')
    expect(pool).toEqual([])
    expect(result.warmPools?.map((w) => w.replaced)).toEqual([[stale]])
    expect(snapshotReport(result, 'us-east-1')).toContain(
      `### Warm pools\n\n- ${group}: 1 of 1 warm instance(s) held old code; replaced ${stale}`
    )
  })

  it('the snapshot action, warm-pools: keep, keeps them and warns naming them', async () => {
    const { log, stale, pool } = await snapshotWithWarmPool('keep')
    expect(pool).toEqual([stale])
    expect(log.messages('warning')).toEqual([
      expect.stringContaining(`will serve OLD code when they go into service: ${stale}`)
    ])
  })
})
