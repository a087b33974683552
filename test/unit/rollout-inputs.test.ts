/** The rollout inputs as rollout and deploy read them: what reaches the script sent to hosts. */
import { scriptShown } from '../../src/rollout/host-script.js'
import { describe, expect, it } from '@jest/globals'
import { readRollbackSettings } from '../../src/actions/shared/rollback.js'
import { readRolloutSettings } from '../../src/actions/shared/rollout.js'
import { rollbackScript } from '../../src/rollout/rollback.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import { RUN } from '../../support/fixtures.js'
import { failureOf } from '../helpers/failure.js'
import { FIELDS } from '../../src/actions/rollout/fields.js'

const settings = (values: Record<string, string>) =>
  readRolloutSettings(new Inputs((name) => values[name] ?? ''), RUN)

describe('readRolloutSettings', () => {
  it('hands env, run-as and working-directory to both scripts, each with its own log name', () => {
    const s = settings({
      commands: './bin/deploy',
      'run-once': './bin/migrate',
      env: 'MSG<<EOF\nFix login\n\nCloses #12\nEOF',
      'run-as': 'deploy',
      'working-directory': '/srv/app'
    })
    for (const [script, name] of [
      [s.script, 'commands'],
      [s.runOnceScript!, 'run-once']
    ] as const) {
      const text = scriptShown(script).join('\n')
      expect(text).toContain("export MSG='Fix login\n\nCloses #12'")
      expect(text).toContain(`runuser -u 'deploy' --`)
      expect(text).toContain(`cd -- '\\''/srv/app'\\''`)
      expect(text).toContain(`-run-${RUN.runId}-${RUN.runAttempt}-${name}-$$.log"`)
    }
    expect(scriptShown(s.script).join('\n')).toContain("\n./bin/deploy'\n")
    expect(scriptShown(s.runOnceScript!).join('\n')).toContain("\n./bin/migrate'\n")
    expect(s.document).toBe('AWS-RunShellScript')
  })

  it('runs as root without switching users when run-as is empty', () => {
    expect(scriptShown(settings({ commands: 'make' }).script).join('\n')).not.toContain('runuser')
  })

  it.each([
    'AWS-RunPowerShellScript',
    'arn:aws:ssm:eu-west-1:123456789012:document/MyPowerShellDeploy',
    'Acme-Windows-Deploy'
  ])('refuses the Windows document %s by name', (document) => {
    expect(failureOf(() => settings({ commands: 'make', document }), FIELDS)).toContain(
      `Input "document": ${JSON.stringify(document)} is a Windows document, and the script this action sends is POSIX shell for Linux hosts. Expected AWS-RunShellScript, or a Linux document that takes commands and executionTimeout like it.`
    )
  })

  it('takes a Linux document of your own', () => {
    expect(settings({ commands: 'make', document: 'Acme-RunShellScript' }).document).toBe(
      'Acme-RunShellScript'
    )
  })

  it('exports the commit being deployed and its ref, before the user env', () => {
    const text = scriptShown(settings({ commands: 'make', env: 'A=1' }).script).join('\n')
    expect(text).toContain(`export EBS_AUTOSCALE_COMMIT='${RUN.sha}'`)
    expect(text).toContain(`export EBS_AUTOSCALE_REF='${RUN.ref}'`)
    expect(text.indexOf('EBS_AUTOSCALE_COMMIT')).toBeLessThan(text.indexOf('export A='))
    const other = scriptShown(
      readRolloutSettings(new Inputs((n) => ({ commands: 'make' })[n] ?? ''), {
        ...RUN,
        sha: 'fedcba9876543210fedcba9876543210fedcba98',
        ref: ''
      }).script
    ).join('\n')
    expect(other).toContain(
      "export EBS_AUTOSCALE_COMMIT='fedcba9876543210fedcba9876543210fedcba98'"
    )
    expect(other).not.toContain('EBS_AUTOSCALE_REF')
  })

  it('gives the rollback the same env: the commit it rolls back from, then the user env', () => {
    const values: Record<string, string> = { 'rollback-commands': './bin/rollback', env: 'A=1' }
    const rollback = readRollbackSettings(new Inputs((n) => values[n] ?? ''), RUN)!
    const text = rollbackScript(rollback, { commit: 'abc123', snapshotId: 'snap-1' }).join('\n')
    expect(text).toContain(`export EBS_AUTOSCALE_COMMIT='${RUN.sha}'`)
    expect(text).toContain(`export EBS_AUTOSCALE_REF='${RUN.ref}'`)
    expect(text).toContain("export EBS_AUTOSCALE_PREVIOUS_COMMIT='abc123'")
    expect(text.indexOf('EBS_AUTOSCALE_COMMIT')).toBeLessThan(text.indexOf('export A='))
  })

  it('refuses a deadline shorter than one host timeout, naming both inputs', () => {
    expect(
      failureOf(() => settings({ commands: 'make', deadline: '300s', timeout: '10m' }), FIELDS)
    ).toBe(
      'Input "deadline": "5m" is shorter than timeout (10m). Expected a deadline for the whole rollout at least as long as one host\'s timeout.'
    )
    expect(settings({ commands: 'make', deadline: '10m', timeout: '10m' }).deadlineMs).toBe(600_000)
  })
})
