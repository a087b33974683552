/** volume-initialization-rate: parsed strictly, written into the code mapping, kept otherwise. */
import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { readPublishSettings } from '../../src/actions/shared/snapshot.js'
import { readSnapshotActionSettings } from '../../src/actions/snapshot/options.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { withCodeSnapshot } from '../../src/snapshot/ops/mappings.js'
import { RUN } from '../../support/fixtures.js'
import { failureOf } from '../helpers/failure.js'
import { FIELDS } from '../../src/actions/snapshot/fields.js'

const ROOT = join(import.meta.dirname, '../..')
const defaults = (file: string) =>
  (
    parse(readFileSync(join(ROOT, file), 'utf8')) as {
      inputs: Record<string, { default?: string }>
    }
  ).inputs

/** Inputs as the runner gives them for one action.yml: its defaults, overridden by `given`. */
function inputs(file: string, given: Record<string, string>): Inputs {
  const declared = defaults(file)
  return new Inputs((name) => {
    if (!(name in declared)) throw new Error(`${file} declares no input ${name}`)
    return given[name] ?? declared[name]?.default ?? ''
  })
}

const snapshotAction = (given: Record<string, string>) =>
  readSnapshotActionSettings(
    inputs('actions/snapshot/action.yml', {
      'instance-id': 'i-0123456789abcdef0',
      'launch-template': 'app-lt',
      ...given
    }),
    RUN
  )

const deploy = (given: Record<string, string>) => ({
  publish: readPublishSettings(inputs('action.yml', given))
})

describe('the volume-initialization-rate input', () => {
  it.each(['100', '250', '300'])('takes %s MiB/s, in the snapshot action and in deploy', (v) => {
    expect(snapshotAction({ 'volume-initialization-rate': v }).publish).toMatchObject({
      volumeInitializationRate: Number(v)
    })
    expect(deploy({ 'volume-initialization-rate': v }).publish).toMatchObject({
      volumeInitializationRate: Number(v)
    })
  })

  it('is left out when empty, so the source version keeps its rate', () => {
    expect(snapshotAction({}).publish).not.toHaveProperty('volumeInitializationRate')
    expect(deploy({}).publish).not.toHaveProperty('volumeInitializationRate')
  })

  it.each([
    ['99', '"99" is out of range. Expected a whole number between 100 and 300.'],
    ['301', '"301" is out of range. Expected a whole number between 100 and 300.'],
    ['fast', '"fast" is not a whole number. Expected a whole number between 100 and 300.'],
    ['150.5', '"150.5" is not a whole number. Expected a whole number between 100 and 300.']
  ])('refuses %s by name', (v, message) => {
    const expected = `Input "volume-initialization-rate": ${message}`
    expect(() => snapshotAction({ 'volume-initialization-rate': v })).toThrow(expected)
    expect(() => deploy({ 'volume-initialization-rate': v })).toThrow(expected)
  })

  it('needs launch-template in the snapshot action (there is no mapping to write it into)', () => {
    expect(
      failureOf(
        () => snapshotAction({ 'launch-template': '', 'volume-initialization-rate': '200' }),
        FIELDS
      )
    ).toContain(
      'Input "volume-initialization-rate": needs launch-template. Expected the launch template to publish the snapshot to.'
    )
  })
})

describe('the rate in the code mapping', () => {
  const SNAP = 'snap-0new000000000000a'
  const code = (rate?: number) => [
    {
      DeviceName: '/dev/sdf',
      Ebs: {
        SnapshotId: 'snap-0old000000000000a',
        VolumeSize: 8,
        ...(rate ? { VolumeInitializationRate: rate } : {})
      }
    }
  ]

  it("is written into the mapping when given, replacing the source version's", () => {
    const change = withCodeSnapshot(code(100), '/dev/sdf', SNAP, undefined, {
      volumeInitializationRate: 250
    })
    expect(change.after.Ebs).toEqual({
      SnapshotId: SNAP,
      VolumeSize: 8,
      VolumeInitializationRate: 250
    })
  })

  it("keeps the source version's rate when none is given, and adds none", () => {
    expect(withCodeSnapshot(code(150), '/dev/sdf', SNAP).after.Ebs?.VolumeInitializationRate).toBe(
      150
    )
    expect(withCodeSnapshot(code(), '/dev/sdf', SNAP).after.Ebs).not.toHaveProperty(
      'VolumeInitializationRate'
    )
  })

  it('goes into a mapping the source version lacked', () => {
    const change = withCodeSnapshot([], 'sdf', SNAP, undefined, { volumeInitializationRate: 300 })
    expect(change.after.Ebs).toEqual({
      SnapshotId: SNAP,
      DeleteOnTermination: true,
      VolumeInitializationRate: 300
    })
  })
})
