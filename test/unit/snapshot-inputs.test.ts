import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { readPublishSettings, snapshotOutputs } from '../../src/actions/shared/snapshot.js'
import { readSnapshotActionSettings } from '../../src/actions/snapshot/options.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import type { PublishFlowResult } from '../../src/flows/publish.js'
import { MAX_TAGS, MAX_USER_TAGS, snapshotTags, TAG } from '../../src/snapshot/ops/tags.js'
import type { CodeVolume } from '../../src/snapshot/types.js'
import { RUN } from '../../support/fixtures.js'
import { failureOf } from '../helpers/failure.js'
import { FIELDS } from '../../src/actions/snapshot/fields.js'

const VOLUME: CodeVolume = {
  volumeId: 'vol-0123456789abcdef0',
  availabilityZone: 'us-east-1a',
  sizeGiB: 8,
  encrypted: false,
  instanceId: 'i-0123456789abcdef0',
  device: '/dev/sdf'
}

const ROOT = join(import.meta.dirname, '../..')
const action = parse(readFileSync(join(ROOT, 'actions/snapshot/action.yml'), 'utf8')) as {
  inputs: Record<string, { description: string; default?: string }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

const run = RUN

/** Inputs as the runner gives them: the action.yml defaults, overridden by `given`. */
function inputs(given: Record<string, string>, read: Set<string> = new Set()): Inputs {
  return new Inputs((name) => {
    read.add(name)
    return given[name] ?? action.inputs[name]?.default ?? ''
  })
}

const settings = (given: Record<string, string>) => readSnapshotActionSettings(inputs(given), run)

describe('snapshot inputs', () => {
  it('reads the defaults of action.yml', () => {
    expect(settings({ 'instance-id': 'i-0123456789abcdef0', 'launch-template': 'app-lt' })).toEqual(
      {
        source: { kind: 'instance', instanceId: 'i-0123456789abcdef0', device: '/dev/sdf' },
        snapshot: {
          consistency: { mode: 'sync' },
          name: 'shop',
          tags: {},
          run
        },
        wait: true,
        timeoutMs: 1_800_000,
        publish: {
          targets: [{ launchTemplate: 'app-lt', sourceVersion: '$Default' }],
          device: '/dev/sdf',
          setDefault: true
        },
        warmPools: 'replace',
        retention: { keepSnapshots: 5, keepVersions: 0 },
        dryRun: false
      }
    )
  })

  it('reads every input it declares and declares every input it reads', () => {
    const read = new Set<string>()
    readSnapshotActionSettings(
      inputs(
        {
          'instance-id': 'i-0123456789abcdef0',
          'launch-template': 'app-lt',
          'instance-refresh': 'true',
          'asg-name': 'web'
        },
        read
      ),
      run
    )
    // aws-region and max-attempts are read where the clients are made, commit and github-token
    // where the run context is (src/actions/shared/commit.ts).
    const declared = Object.keys(action.inputs).filter(
      (n) => !['aws-region', 'max-attempts', 'commit', 'github-token'].includes(n)
    )
    expect([...read].sort()).toEqual(declared.sort())
    const undescribed = Object.entries(action.inputs).filter(([, i]) => i.description.length < 20)
    expect(undescribed).toEqual([])
  })

  it('declares every output it sets, described', () => {
    const result: PublishFlowResult = {
      snapshot: {
        snapshotId: 'snap-1',
        volume: { volumeId: 'vol-1', availabilityZone: 'us-east-1a', sizeGiB: 8, encrypted: false },
        name: 'shop',
        description: '',
        tags: {},
        state: 'pending',
        consistency: 'none',
        dryRun: false
      },
      state: 'completed',
      targets: [],
      dryRun: false
    }
    expect(Object.keys(snapshotOutputs(result)).sort()).toEqual(Object.keys(action.outputs).sort())
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })

  it('takes a volume id, a freeze with its mount point, tags and a version number', () => {
    const s = settings({
      'volume-id': 'vol-0123456789abcdef0',
      consistency: 'freeze',
      'mount-point': '/srv/app/',
      'snapshot-tags': 'Team=web\nCostCenter=42',
      'launch-template': 'lt-0123456789abcdef0',
      'source-version': '7',
      'keep-versions': '10',
      device: 'xvdf'
    })
    expect(s.source).toEqual({ kind: 'volume', volumeId: 'vol-0123456789abcdef0' })
    expect(s.snapshot.consistency).toEqual({ mode: 'freeze', mountPoint: '/srv/app' })
    expect(s.snapshot.tags).toEqual({ Team: 'web', CostCenter: '42' })
    expect(s.publish).toEqual({
      targets: [{ launchTemplate: 'lt-0123456789abcdef0', sourceVersion: '7' }],
      setDefault: true,
      device: 'xvdf'
    })
    expect(s.retention).toEqual({ keepSnapshots: 5, keepVersions: 10 })
  })

  it.each([
    [
      { 'instance-id': 'i-0123456789abcdef0', consistency: 'bogus' },
      'Input "consistency": "bogus" is not one of: none, sync, freeze.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'keep-snapshots': '-1' },
      'Input "keep-snapshots": "-1" is out of range. Expected a whole number at least 0.'
    ],
    [{}, 'Input "instance-id": is required (or volume-id).'],
    [{ 'instance-id': 'web-1' }, 'Input "instance-id": "web-1" is not an instance id.'],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'volume-id': 'vol-0123456789abcdef0' },
      'Input "volume-id": is set together with instance-id.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', device: '/dev/nvme1n1' },
      'Input "device": "/dev/nvme1n1" is not an EBS device name.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', consistency: 'freeze' },
      'Input "mount-point": is required with consistency: freeze.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', consistency: 'freeze', 'mount-point': '/' },
      'Input "mount-point": "/" holds the system or the SSM agent'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', consistency: 'freeze', 'mount-point': '/var' },
      'Input "mount-point": "/var" holds the system or the SSM agent'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'mount-point': 'srv/app' },
      'Input "mount-point": "srv/app" is not an absolute path.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'mount-point': '/srv/$(reboot)' },
      'Input "mount-point": "/srv/$(reboot)" is not an absolute path.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'snapshot-tags': 'Name=other' },
      'Input "snapshot-tags": sets Name.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'snapshot-tags': 'Team=a,b' },
      'Input "snapshot-tags": "Team" has several values (a, b).'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'snapshot-tags': 'ebs-autoscale:commit=x' },
      'Input "snapshot-tags": "ebs-autoscale:commit" uses a reserved prefix'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'snapshot-timeout': 'soon' },
      'Input "snapshot-timeout": "soon" is not a duration.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'launch-template': 'app-lt', wait: 'false' },
      'Input "wait": is false while launch-template is set.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'launch-template': 'a b' },
      'Input "launch-template": "a b" is neither a launch template id nor a name.'
    ],
    [
      {
        'instance-id': 'i-0123456789abcdef0',
        'launch-template': 'app-lt',
        'source-version': 'latest'
      },
      'Input "source-version": "latest" is not a version.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'instance-refresh': 'true' },
      'Input "instance-refresh": needs launch-template.'
    ],
    [
      {
        'instance-id': 'i-0123456789abcdef0',
        'launch-template': 'app-lt',
        'min-healthy-percentage': '101'
      },
      'Input "min-healthy-percentage": "101" is out of range.'
    ],
    [
      { 'instance-id': 'i-0123456789abcdef0', 'dry-run': 'yes' },
      'Input "dry-run": "yes" is not a boolean.'
    ]
  ])('rejects %j', (given, message) => {
    expect(failureOf(() => settings(given), FIELDS)).toContain(message)
  })
})

describe('the tag budget', () => {
  const base = { 'instance-id': 'i-0123456789abcdef0' }
  const userTags = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v${i}`).join('\n')

  it('leaves room for every tag the project writes, the status and failure tags included', () => {
    const s = settings({ ...base, 'snapshot-tags': userTags(MAX_USER_TAGS) })
    const written = snapshotTags(
      'shop',
      run,
      VOLUME,
      '/dev/sdf',
      s.snapshot.tags,
      'lt-0123456789abcdef0',
      '3f9c2ab'
    )
    const later = { [TAG.status]: 'failed', [TAG.failure]: 'x' }
    expect(Object.keys({ ...written, ...later })).toHaveLength(MAX_TAGS)
  })

  it('refuses one user tag more, saying how many the project keeps', () => {
    expect(
      failureOf(() => settings({ ...base, 'snapshot-tags': userTags(MAX_USER_TAGS + 1) }), FIELDS)
    ).toContain(
      `Input "snapshot-tags": has ${MAX_USER_TAGS + 1} tags. Expected at most ${MAX_USER_TAGS} (EC2 allows 50 per snapshot and this action keeps ${Object.keys(TAG).length} for its own).`
    )
  })
})

describe('the publish settings deploy reads', () => {
  const deploySettings = (given: Record<string, string>) => readPublishSettings(inputs(given))

  it('keep source-version and set-default when the launch template is left to deploy to find', () => {
    const s = deploySettings({ 'source-version': '3', 'set-default': 'false' })
    expect(s.target).toEqual({ sourceVersion: '3' })
    expect(s.setDefault).toBe(false)
    expect(s.device).toBe('/dev/sdf')
  })

  it('let asg-name and instance-refresh through without launch-template', () => {
    const s = deploySettings({ 'asg-name': 'web', 'instance-refresh': 'true' })
    expect(s.target.groups).toEqual(['web'])
    expect(deploySettings({ 'asg-name': 'web,\nworker' }).target.groups).toEqual(['web', 'worker'])
    expect(s.instanceRefresh).toEqual({
      minHealthyPercentage: 90,
      wait: true,
      timeoutMs: 3_600_000
    })
  })
})
