/**
 * Deploy options for the emulator's worlds: their commands an echo, polled fast. What a test
 * varies (traffic, lock, catch-up, retention) goes in `extra`, which replaces the whole field.
 */
import type { DeployOptions } from '../../src/deploy/types.js'
import type { CountOrPercent } from '../../src/model/fleet.js'
import type { CodeVolumeWorld } from '../../support/emulator/world.js'
import { deployOptions, rolloutSettings } from '../../support/fixtures.js'

/** Polling at the emulator's pace: AWS's backoff would make each test minutes long. */
export const FAST = { initialMs: 50, maxMs: 200, factor: 1.5, jitter: 0 }

/** A deploy lock that waits long enough for a slow emulator, held as the action holds it. */
export const LOCK = { timeoutMs: 30_000, holdMs: 3_600_000 }

/**
 * The deploy of the world's group to its template, behind the target groups the group names,
 * keeping `minHealthy` hosts healthy; no catch-up (the traffic is what these tests watch).
 */
export function deployBehindTargetGroups(
  w: CodeVolumeWorld,
  minHealthy: CountOrPercent,
  extra: Partial<DeployOptions> = {}
): DeployOptions {
  return deployOptions({
    query: { tags: new Map(), states: ['running'], asgNames: [w.asgName] },
    rollout: rolloutSettings({ script: ['echo deploying'], backoff: FAST }),
    publish: {
      targets: [{ launchTemplate: w.launchTemplateId, sourceVersion: '$Default' }],
      setDefault: true
    },
    catchUp: { maxRounds: 0, readyTimeoutMs: 5_000 },
    traffic: {
      targetGroups: { auto: true, given: [] },
      minHealthy,
      healthTimeoutMs: 10_000
    },
    ...extra
  })
}
