import { beforeEach, describe, expect, it } from '@jest/globals'
import { GetCommandInvocationCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { runRollout } from '../../src/rollout/run.js'
import { addFullOutput, resultFromInvocation } from '../../src/rollout/commands.js'
import { tailFooter, tailHeader } from '../../src/rollout/output.js'
import { reportHosts } from '../../src/rollout/host-log.js'
import { rolloutTable } from '../../src/report/rollout.js'
import { RecordingLog } from '../helpers/log.js'
import { SimulatedFleet } from '../../support/ssm-fleet.js'
import { VirtualClock } from '../../support/virtual-clock.js'
import { makeRuntime } from '../../src/runtime.js'
import { rolloutSettings } from '../../support/fixtures.js'

const ssmMock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'us-east-1' })
const LOG = '/var/log/ebs-autoscale/20261126T070000Z-commands-42.log'

/** What the script prints on stderr when the commands fail: the log's last lines, marked. */
const block = (lines: string, code = 1) =>
  `${tailHeader(LOG)}\n${lines}\n${tailFooter(String(code))}\n`

describe("a failing host's last lines of output", () => {
  beforeEach(() => {
    ssmMock.reset()
  })

  it('shows the end of an output SSM cut, where the whole log is, and why in the annotation and summary', async () => {
    const clock = new VirtualClock()
    const log = new RecordingLog()
    const ids = SimulatedFleet.ids(2)
    const noise = Array.from({ length: 2_000 }, (_, i) => `npm http fetch GET 200 pkg-${i}`)
    new SimulatedFleet(clock, ids, {}).mock(ssmMock).setHost(ids[0]!, {
      outcome: 'Failed',
      exitCode: 1,
      stdout:
        noise.join('\n') + '\nnpm ERR! code ERESOLVE\nnpm ERR! unable to resolve dependency tree\n',
      stderr: block(
        'npm http fetch GET 200 pkg-1999\nnpm ERR! code ERESOLVE\nnpm ERR! unable to resolve dependency tree'
      )
    })
    const result = await runRollout(
      ssm,
      { ...rolloutSettings({ script: ['npm ci'] }), instanceIds: ids },
      makeRuntime({ clock, log })
    )

    const failed = result.results[0]!
    expect(failed.status).toBe('Failed')
    expect(failed.outputTail).toBe(
      'npm http fetch GET 200 pkg-1999\nnpm ERR! code ERESOLVE\nnpm ERR! unable to resolve dependency tree'
    )
    expect(failed.logPath).toBe(LOG)
    expect(failed.stderrTail).toBeUndefined()
    expect(failed.outputNote).toBe(
      `Output was cut: SSM returned only the start of stdout; the full log is at ${LOG} on the host.`
    )
    const group = log.messages('group').find((g) => g.includes(`${ids[0]}: Failed`))!
    expect(group).toContain(
      `--- last lines of output (full log: ${LOG}) ---\nnpm http fetch GET 200 pkg-1999\nnpm ERR! code ERESOLVE`
    )
    expect(group).toContain(failed.outputNote)
    // SSM's copy of stdout is only its start: not shown as if it were the end.
    expect(group).not.toContain('--- stdout (last lines) ---')
    const annotation = log.lines.find((l) => l.title === `Deploy failed on ${ids[0]}`)!.message
    expect(annotation).toContain('npm ERR! unable to resolve dependency tree')
    expect(rolloutTable(result)).toContain('| npm ERR! unable to resolve dependency tree |')
  })

  it('reads the block from a listing, and says where the whole output is in S3 or CloudWatch', async () => {
    const listed = resultFromInvocation(
      {
        CommandId: 'c-1',
        InstanceId: 'i-1',
        Status: 'Failed',
        StatusDetails: 'Failed',
        CloudWatchOutputConfig: {
          CloudWatchLogGroupName: '/deploys',
          CloudWatchOutputEnabled: true
        },
        CommandPlugins: [
          {
            Name: 'aws:runShellScript',
            ResponseCode: 2,
            Output: `building\n----------ERROR-------\n${block('make: *** [all] Error 2', 2)}`,
            StandardOutputUrl:
              'https://s3.amazonaws.com/logs/c-1/i-1/awsrunShellScript/0.awsrunShellScript/stdout'
          }
        ]
      },
      1
    )
    expect(listed.outputTail).toBe('make: *** [all] Error 2')
    expect(listed.logPath).toBe(LOG)
    expect(listed.outputNote).toBeUndefined()
    expect(listed.cloudWatchOutput).toBe(
      'log group /deploys, stream c-1/i-1/aws-runShellScript/stdout'
    )

    // GetCommandInvocation's fuller copy: stderr cut at 8,000 characters cuts the block too.
    ssmMock.on(GetCommandInvocationCommand).resolves({
      StandardOutputContent: 'building\n',
      StandardErrorContent: block('x'.repeat(9_000)).slice(0, 8_000),
      StandardOutputUrl: 'https://s3.amazonaws.com/logs/c-1/i-1/stdout'
    })
    await addFullOutput(ssm, listed)
    expect(listed.outputNote).toBe(
      `Output was cut: SSM returned only the start of stderr; the full log is at ${LOG} on the host.`
    )
    expect(listed.outputUrl).toBe(
      'https://s3.amazonaws.com/logs/c-1/i-1/awsrunShellScript/0.awsrunShellScript/stdout'
    )
    const log = new RecordingLog()
    reportHosts(log, { number: 1, kind: 'canary', instanceIds: ['i-1'] }, [listed])
    expect(log.messages('group')[0]).toContain(
      'Full output in CloudWatch Logs: log group /deploys, stream c-1/i-1/aws-runShellScript/stdout'
    )
    expect(log.messages('group')[0]).toContain(`Full output: ${listed.outputUrl}`)
  })
})
