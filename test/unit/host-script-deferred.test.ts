/**
 * A script made when its command is sent (a release's, with a presigned URL inside): each
 * SendCommand gets a fresh one, and what a person sees is the placeholder, never the URL.
 */
import { beforeEach, describe, expect, it } from '@jest/globals'
import { SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import { sendCommands } from '../../src/rollout/commands.js'
import { appendLines, scriptShown, type HostScript } from '../../src/rollout/host-script.js'

const ssmMock = mockClient(SSMClient)
const ssm = new SSMClient({ region: 'us-east-1' })
const ids = (n: number) => Array.from({ length: n }, (_, i) => `i-${String(i).padStart(17, '0')}`)

describe('a script made when its command is sent', () => {
  beforeEach(() => {
    ssmMock.reset()
    ssmMock.on(SendCommandCommand).resolves({ Command: { CommandId: 'c' } })
  })

  it('is made again for every SendCommand (50 hosts a call), each with its own URL', async () => {
    let made = 0
    const script: HostScript = {
      shown: ['fetch <presigned URL, made when the command is sent>'],
      make: async () => [`fetch https://bucket/key?sig=${++made}`]
    }
    const options = { document: 'AWS-RunShellScript', script, hostTimeoutMs: 60_000 }
    await sendCommands(
      ssm,
      ids(120),
      { ...options, deliveryTimeoutMs: 60_000, comment: '' },
      () => {}
    )
    const sent = ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input)
    expect(sent.map((s) => s.InstanceIds!.length)).toEqual([50, 50, 20])
    expect(sent.map((s) => s.Parameters!['commands'])).toEqual([
      ['fetch https://bucket/key?sig=1'],
      ['fetch https://bucket/key?sig=2'],
      ['fetch https://bucket/key?sig=3']
    ])
  })

  it('shows the placeholder, and keeps lines appended to it (the flush) in both', async () => {
    const script = appendLines(
      { shown: ['fetch <url>'], make: async () => ['fetch https://secret'] },
      ['sync']
    )
    expect(scriptShown(script)).toEqual(['fetch <url>', 'sync'])
    expect(JSON.stringify(scriptShown(script))).not.toContain('secret')
    expect(await (script as { make(): Promise<readonly string[]> }).make()).toEqual([
      'fetch https://secret',
      'sync'
    ])
  })
})
