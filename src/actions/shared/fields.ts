/**
 * The core names each setting it refuses by a field (`groups`, `launchTemplate`...); each action
 * has a table from those fields to the inputs its users set them by (src/actions/<name>/fields.ts,
 * built from the pieces below). runAction renders a SettingError with the action's table, so
 * the message names the input; another front end reuses every rule with a table of its own.
 */
import { errorMessage, nameSettings, SettingError } from '../../errors.js'

/** Core field -> input name. */
export type FieldNames = Readonly<Record<string, string>>

/** Every action makes AWS clients. */
export const CLIENT_FIELDS = { region: 'aws-region', maxAttempts: 'max-attempts' } as const

/** The commit a step deploys (rollout, snapshot, deploy). */
export const COMMIT_FIELDS = { commit: 'commit', githubToken: 'github-token' } as const

/** Choosing hosts by tags and Auto Scaling groups. */
export const HOST_FIELDS = { tags: 'tags', groups: 'asg-name' } as const

/** The rollout's own settings (rollout and deploy). */
export const ROLLOUT_FIELDS = {
  commands: 'commands',
  document: 'document',
  deadline: 'deadline',
  hostTimeout: 'timeout',
  rollbackCommands: 'rollback-commands'
} as const

/** Releases: the artifact, its store, the layout on each host, rollback-to (rollout and deploy). */
export const RELEASE_FIELDS = {
  artifact: 'artifact',
  artifactBucket: 'artifact-bucket',
  artifactPrefix: 'artifact-prefix',
  mountPoint: 'mount-point',
  rollbackTo: 'rollback-to',
  rollbackCommands: 'rollback-commands'
} as const

/** Load balancer draining and health gates (rollout and deploy). */
export const TRAFFIC_FIELDS = {
  targetGroups: 'target-groups',
  minHealthy: 'min-healthy',
  unhealthyFirst: 'unhealthy-first'
} as const

/** What the snapshot is (snapshot and deploy). */
export const SNAPSHOT_FIELDS = {
  device: 'device',
  consistency: 'consistency',
  mountPoint: 'mount-point',
  name: 'name',
  description: 'description',
  snapshotTags: 'snapshot-tags'
} as const

/** Where it is published (snapshot and deploy). */
export const PUBLISH_FIELDS = {
  launchTemplate: 'launch-template',
  sourceVersion: 'source-version',
  groups: 'asg-name',
  instanceRefresh: 'instance-refresh',
  keepVersions: 'keep-versions',
  volumeInitializationRate: 'volume-initialization-rate'
} as const

/** An error's text for the user: a SettingError names its input and the inputs it mentions. */
export function failureText(err: unknown, fields: FieldNames): string {
  if (!(err instanceof SettingError)) return errorMessage(err)
  const nameOf = (field: string): string => fields[field] ?? field
  return `Input "${nameOf(err.field)}": ${nameSettings(err.detail, nameOf)}`
}
