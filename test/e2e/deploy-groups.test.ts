/**
 * The deploy bundle over several Auto Scaling groups, run as the runner runs it: asg-name as a
 * workflow writes it (a block scalar), the outputs for several templates, and the summary.
 */
import { describe, expect, it } from '@jest/globals'
import { codeVolumeWorld, webAndWorkers } from '../../support/emulator/world.js'
import { annotations, BUNDLES, runBundle } from '../../support/bundle.js'
import { useEmulator } from '../helpers/emulator.js'
import { defaultSnapshot, firstPublishedVersions } from '../helpers/fleet.js'

const emulator = useEmulator()

describe('the deploy bundle over several groups', () => {
  it('deploys every member and publishes to each template, reporting each', async () => {
    const [web, worker] = await webAndWorkers(emulator.clients)

    const r = await runBundle(
      BUNDLES.deploy,
      { 'asg-name': `${web.asgName}\n${worker.asgName}\n`, commands: './bin/deploy' },
      emulator.env
    )
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const hosts = JSON.parse(r.outputs['instance-ids']!) as string[]
    expect([...hosts].sort()).toEqual([...web.instanceIds, ...worker.instanceIds].sort())
    expect(JSON.parse(r.outputs['succeeded-instance-ids']!)).toEqual(hosts)

    const snapshotId = r.outputs['snapshot-id']!
    expect(JSON.parse(r.outputs['published-versions']!)).toEqual(
      firstPublishedVersions(web, worker)
    )
    // The single-value outputs are the first group's template.
    expect(r.outputs['launch-template-id']).toBe(web.launchTemplateId)
    expect(r.outputs['launch-template-version']).toBe('2')
    expect(await defaultSnapshot(emulator.clients, web.launchTemplateId)).toBe(snapshotId)
    expect(await defaultSnapshot(emulator.clients, worker.launchTemplateId)).toBe(snapshotId)
    expect(r.summary).toContain(
      `new instances boot from \`${snapshotId}\` (the new default version of each launch template: web-lt v2, worker-lt v2).`
    )
  })

  it('fails naming a group that does not exist, before anything changes', async () => {
    const web = await codeVolumeWorld(emulator.clients, { name: 'web', size: 1 })
    const r = await runBundle(
      BUNDLES.deploy,
      { 'asg-name': `${web.asgName}, wrokers-asg`, commands: './bin/deploy' },
      emulator.env
    )
    expect(r.exitCode).toBe(1)
    expect(annotations(r.stdout, 'error')).toEqual([
      'Input "asg-name": Auto Scaling group "wrokers-asg" does not exist in this region. Expected the name of an existing group.'
    ])
    expect(r.outputs['snapshot-id'] ?? '').toBe('')
  })
})
