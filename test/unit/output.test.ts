import { describe, expect, it } from '@jest/globals'
import {
  LISTING_LIMITS,
  outputCutNote,
  readHostOutput,
  tailFooter,
  tailHeader
} from '../../src/rollout/output.js'

const LOG = '/var/log/ebs-autoscale/20261126T054452Z-run-4242-1-commands-812.log'
const block = (lines: string, code = 1): string =>
  `${tailHeader(LOG)}\n${lines}\n${tailFooter(String(code))}\n`

describe('readHostOutput', () => {
  it("finds the tail block, its log and exit code; SSM's own last line is left out", () => {
    const stderr =
      block('npm ERR! code ELIFECYCLE\nnpm ERR! errno 1', 1) +
      'failed to run commands: exit status 1'
    expect(readHostOutput('added 812 packages\n', stderr)).toEqual({
      tail: 'npm ERR! code ELIFECYCLE\nnpm ERR! errno 1',
      logPath: LOG,
      exitCode: 1,
      tailCut: false,
      stdoutCut: false,
      stderrCut: false
    })
  })

  it("takes the script's block even when the output inside it looks like markers", () => {
    const inner = `${tailFooter('0')}\n${tailHeader('/tmp/fake.log')}\nreal error`
    const out = readHostOutput('', block(inner, 9))
    expect(out.tail).toBe(inner)
    expect(out.logPath).toBe(LOG)
    expect(out.exitCode).toBe(9)
  })

  it('reads an empty block (no output at all) and a block glued to a last line without newline', () => {
    expect(readHostOutput('', `${tailHeader(LOG)}\n${tailFooter('3')}\n`).tail).toBe('')
    expect(readHostOutput('', `${tailHeader(LOG)}\nno newline${tailFooter('3')}\n`).tail).toBe(
      'no newline'
    )
  })

  it('says when SSM cut a stream, and when it cut the block itself', () => {
    const stdout = 'x'.repeat(24_000)
    const cut = block('a\nb\nc').slice(0, -20)
    expect(readHostOutput(stdout, cut)).toMatchObject({
      tail: cut.split('\n').slice(1).join('\n'),
      tailCut: true,
      stdoutCut: true,
      stderrCut: false
    })
    expect(readHostOutput('', 'e'.repeat(8_000)).stderrCut).toBe(true)
    expect(readHostOutput('x'.repeat(23_999), 'e'.repeat(7_999))).toMatchObject({
      stdoutCut: false,
      stderrCut: false
    })
  })

  it('with listing limits, both streams together count', () => {
    expect(readHostOutput('x'.repeat(2_000), 'e'.repeat(500), LISTING_LIMITS)).toMatchObject({
      stdoutCut: true,
      stderrCut: true
    })
    expect(readHostOutput('x'.repeat(2_000), 'e'.repeat(499), LISTING_LIMITS).stdoutCut).toBe(false)
  })

  it('without a block there is no tail, log or exit code', () => {
    expect(readHostOutput('hello', 'warning: x')).toEqual({
      tailCut: false,
      stdoutCut: false,
      stderrCut: false
    })
  })
})

describe('outputCutNote', () => {
  it('names what was cut and where the whole output is', () => {
    expect(outputCutNote(readHostOutput('x'.repeat(24_000), block('err')))).toBe(
      `Output was cut: SSM returned only the start of stdout; the full log is at ${LOG} on the host.`
    )
    expect(outputCutNote(readHostOutput('x'.repeat(24_000), 'e'.repeat(8_000)))).toBe(
      'Output was cut: SSM returned only the start of stdout and stderr; the full output is on the host, in /var/log/ebs-autoscale/.'
    )
  })

  it('says nothing when SSM returned everything', () => {
    expect(outputCutNote(readHostOutput('ok\n', block('err')))).toBeUndefined()
  })
})
