/** Inputs shared by tests and benchmarks: one run context, rollout and deploy options. */
import type { Provenance } from '../src/model/provenance.js'
import type { DeployOptions } from '../src/deploy/types.js'
import type { PublishFlowOptions } from '../src/flows/publish.js'
import type { RolloutOptions } from '../src/rollout/run.js'
import { TEMPLATE_ID } from './ec2-world.js'

/** The run the e2e tests' runner variables describe too (support/bundle.ts). */
export const RUN: Provenance = {
  repository: 'acme/shop',
  sha: '0123456789abcdef0123456789abcdef01234567',
  ref: 'refs/heads/main',
  runId: '4242',
  runAttempt: '1',
  serverUrl: 'https://github.com',
  workflow: 'deploy',
  actor: 'octocat'
}

/** A rollout as the action's defaults make it: canary 1, then 100%, stop at the first failure. */
export function rolloutSettings(
  extra: Partial<RolloutOptions> = {}
): Omit<RolloutOptions, 'instanceIds'> {
  return {
    script: ['./deploy'],
    document: 'AWS-RunShellScript',
    canary: 1,
    maxConcurrency: { kind: 'percent', value: 100 },
    maxErrors: { kind: 'count', value: 0 },
    hostTimeoutMs: 600_000,
    deadlineMs: 3_600_000,
    skipOffline: false,
    dryRun: false,
    comment: 'test',
    ...extra
  }
}

/** A deploy of the Role=app hosts to the simulated world's template (support/ec2-world.ts). */
export function deployOptions(extra: Partial<DeployOptions> = {}): DeployOptions {
  return {
    query: { tags: new Map([['Role', ['app']]]), states: ['running'] },
    rollout: rolloutSettings(),
    device: '/dev/sdf',
    snapshot: {
      consistency: { mode: 'none' },
      name: 'shop',
      tags: {},
      run: RUN,
      timeoutMs: 1_800_000
    },
    publish: {
      targets: [{ launchTemplate: TEMPLATE_ID, sourceVersion: '$Default' }],
      setDefault: true
    },
    retention: { keepSnapshots: 5, keepVersions: 0 },
    onFailure: 'tag',
    catchUp: { maxRounds: 3, readyTimeoutMs: 600_000 },
    dryRun: false,
    ...extra
  }
}

/**
 * The snapshot action's publish with its defaults: the instance's /dev/sdf, no consistency
 * step, waited for, published as the new default of `launchTemplate`, five snapshots kept.
 */
export function publishFlowOptions(
  instanceId: string,
  launchTemplate: string,
  extra: Partial<PublishFlowOptions> = {}
): PublishFlowOptions {
  return {
    source: { kind: 'instance', instanceId, device: '/dev/sdf' },
    snapshot: { consistency: { mode: 'none' }, name: 'shop', tags: {}, run: RUN },
    wait: true,
    timeoutMs: 600_000,
    publish: {
      targets: [{ launchTemplate, sourceVersion: '$Default' }],
      device: '/dev/sdf',
      setDefault: true
    },
    retention: { keepSnapshots: 5, keepVersions: 0 },
    dryRun: false,
    ...extra
  }
}
