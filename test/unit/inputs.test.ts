import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { InputError } from '../../src/errors.js'
import { parseEnv, refusedEnvName } from '../../src/actions/shared/env-input.js'
import { Inputs } from '../../src/actions/shared/inputs.js'
import {
  parseBoolean,
  parseCountOrPercent,
  parseDuration,
  parseInteger,
  parseGroupNames,
  parseList,
  parseStates,
  parseTags,
  parseUserName
} from '../../src/actions/shared/parse.js'
import { resolveCountOrPercent } from '../../src/model/fleet.js'
import { formatDuration } from '../../src/duration.js'
import { ROOT } from '../../support/emulator/install.mjs'

const tagsOf = (raw: string): Record<string, readonly string[]> =>
  Object.fromEntries(parseTags('tags', raw))

/** The InputError a parse throws; fails the test when it does not throw one. */
function inputError(fn: () => unknown): InputError {
  try {
    fn()
  } catch (err) {
    expect(err).toBeInstanceOf(InputError)
    return err as InputError
  }
  throw new Error('expected an InputError, nothing was thrown')
}

describe('parseTags', () => {
  it('reads one Key=Value pair', () => {
    expect(tagsOf('Role=app')).toEqual({ Role: ['app'] })
  })

  it('ORs values of one key written as Role=app,web', () => {
    expect(tagsOf('Role=app,web')).toEqual({ Role: ['app', 'web'] })
  })

  it('ORs values of one key on repeated lines, dropping duplicates', () => {
    expect(tagsOf('Role=app\nRole=web\nRole=app')).toEqual({ Role: ['app', 'web'] })
  })

  it('ANDs different keys, comma separated or one per line (CRLF too)', () => {
    const expected = { Role: ['app'], Environment: ['production'] }
    expect(tagsOf('Role=app,Environment=production')).toEqual(expected)
    expect(tagsOf('Role=app\r\nEnvironment=production\n')).toEqual(expected)
  })

  it('mixes ORs and ANDs: a bare item belongs to the key before it on its line', () => {
    expect(tagsOf('Role=app,web,Environment=production,staging\nTeam=shop')).toEqual({
      Role: ['app', 'web'],
      Environment: ['production', 'staging'],
      Team: ['shop']
    })
  })

  it('keeps EC2 wildcards and "=" inside values, trims spaces', () => {
    expect(tagsOf('  Name = web-* , Build=?1 \n Query=a=b')).toEqual({
      Name: ['web-*'],
      Build: ['?1'],
      Query: ['a=b']
    })
  })

  it('is empty for an empty or blank value', () => {
    expect(parseTags('tags', '').size).toBe(0)
    expect(parseTags('tags', ' \n , \n').size).toBe(0)
  })

  it('rejects an item without "=" at the start of a line, naming the input and quoting it', () => {
    expect(inputError(() => parseTags('tags', 'Role')).message).toBe(
      'Input "tags": "Role" has no "=". Expected Key=Value pairs, one per line or comma separated, e.g. "Role=app".'
    )
    // A bare value on a new line does not attach to the previous line's key.
    expect(inputError(() => parseTags('tags', 'Role=app\nweb')).message).toContain(
      '"web" has no "="'
    )
  })

  it('rejects an empty key', () => {
    const err = inputError(() => parseTags('tags', '=app'))
    expect(err.input).toBe('tags')
    expect(err.message).toBe(
      'Input "tags": "=app" has an empty key. Expected Key=Value, e.g. "Role=app".'
    )
  })

  it('rejects an empty value and suggests the wildcard', () => {
    expect(inputError(() => parseTags('tags', 'Role=app,Environment=')).message).toBe(
      'Input "tags": "Environment=" has an empty value. Expected Key=Value; use "Environment=*" to match any value.'
    )
  })
})

describe('parseList', () => {
  it('reads the JSON array resolve-hosts writes as an output', () => {
    expect(parseList('instance-ids', '["i-0a","i-0b"]')).toEqual(['i-0a', 'i-0b'])
    expect(parseList('instance-ids', ' [ " i-0a ", "", "i-0b", "i-0a" ] ')).toEqual([
      'i-0a',
      'i-0b'
    ])
  })

  it('reads plain lists separated by commas, spaces and newlines, dropping duplicates', () => {
    expect(parseList('instance-ids', 'i-0a, i-0b\ni-0c  i-0a,,')).toEqual(['i-0a', 'i-0b', 'i-0c'])
  })

  it('is empty for an empty value or an empty array', () => {
    expect(parseList('instance-ids', '')).toEqual([])
    expect(parseList('instance-ids', '  ')).toEqual([])
    expect(parseList('instance-ids', '[]')).toEqual([])
  })

  it('rejects broken JSON', () => {
    expect(inputError(() => parseList('instance-ids', '["i-0a",')).message).toBe(
      'Input "instance-ids": "[\\"i-0a\\"," is not valid JSON. Expected a JSON array of strings or a plain list.'
    )
  })

  it('rejects a JSON array of anything but strings', () => {
    expect(inputError(() => parseList('instance-ids', '[1,2]')).message).toBe(
      'Input "instance-ids": "[1,2]" is not a JSON array of strings.'
    )
    expect(inputError(() => parseList('instance-ids', '[{"instanceId":"i-0a"}]')).input).toBe(
      'instance-ids'
    )
  })
})

describe('parseDuration', () => {
  it.each([
    ['90', 90_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1h0m5s', 3_605_000],
    [' 2m ', 120_000],
    ['0', 0]
  ])('reads %j as %d ms', (raw, ms) => {
    expect(parseDuration('timeout', raw)).toBe(ms)
  })

  it.each(['', 'soon', '1.5m', '-5s', '10 m', '5d', 'm10'])('rejects %j', (raw) => {
    expect(inputError(() => parseDuration('timeout', raw)).message).toBe(
      `Input "timeout": ${JSON.stringify(raw)} is not a duration. Expected a number with a unit, e.g. "90s", "10m" or "1h30m".`
    )
  })

  it('enforces bounds and says them in the message', () => {
    expect(parseDuration('timeout', '1m', { minMs: 60_000, maxMs: 3_600_000 })).toBe(60_000)
    expect(
      inputError(() => parseDuration('timeout', '2h', { minMs: 1000, maxMs: 3_600_000 })).message
    ).toBe('Input "timeout": "2h" is out of range. Expected between 1s and 1h.')
    expect(inputError(() => parseDuration('timeout', '500ms', { minMs: 1000 })).message).toContain(
      '"500ms" is out of range. Expected between 1s and'
    )
  })

  it('formats durations back', () => {
    expect(formatDuration(250)).toBe('250ms')
    expect(formatDuration(45_000)).toBe('45s')
    expect(formatDuration(90_000)).toBe('1m30s')
    expect(formatDuration(600_000)).toBe('10m')
    expect(formatDuration(5_400_000)).toBe('1h30m')
    expect(formatDuration(7_200_000)).toBe('2h')
  })
})

describe('parseCountOrPercent', () => {
  it('reads counts and percentages', () => {
    expect(parseCountOrPercent('batch-size', '3')).toEqual({ kind: 'count', value: 3 })
    expect(parseCountOrPercent('batch-size', ' 25% ')).toEqual({ kind: 'percent', value: 25 })
    expect(parseCountOrPercent('batch-size', '12.5%')).toEqual({ kind: 'percent', value: 12.5 })
    expect(parseCountOrPercent('max-errors', '0')).toEqual({ kind: 'count', value: 0 })
    expect(parseCountOrPercent('max-errors', '0%')).toEqual({ kind: 'percent', value: 0 })
    expect(parseCountOrPercent('batch-size', '100%', 1)).toEqual({ kind: 'percent', value: 100 })
  })

  it('rejects percentages above 100, and 0% when at least one is needed', () => {
    expect(inputError(() => parseCountOrPercent('batch-size', '150%')).message).toBe(
      'Input "batch-size": "150%" is out of range. Expected a percentage from 0 up to 100%.'
    )
    expect(inputError(() => parseCountOrPercent('batch-size', '0%', 1)).message).toBe(
      'Input "batch-size": "0%" is out of range. Expected a percentage above 0 up to 100%.'
    )
  })

  it('rejects counts below the minimum', () => {
    expect(inputError(() => parseCountOrPercent('batch-size', '0', 1)).message).toBe(
      'Input "batch-size": "0" is too small. Expected at least 1.'
    )
  })

  it.each(['', 'all', '-1', '1.5', '25 %', '%'])('rejects %j', (raw) => {
    expect(inputError(() => parseCountOrPercent('batch-size', raw)).message).toBe(
      `Input "batch-size": ${JSON.stringify(raw)} is neither a number of hosts nor a percentage. Expected e.g. "10" or "25%".`
    )
  })

  it('resolves against a fleet size, percentages rounding down', () => {
    expect(resolveCountOrPercent({ kind: 'count', value: 4 }, 10)).toBe(4)
    expect(resolveCountOrPercent({ kind: 'percent', value: 25 }, 10)).toBe(2)
    expect(resolveCountOrPercent({ kind: 'percent', value: 100 }, 7)).toBe(7)
  })
})

describe('parseBoolean', () => {
  it.each([
    ['true', true],
    ['True', true],
    ['TRUE', true],
    [' true ', true],
    ['false', false],
    ['False', false],
    ['FALSE', false]
  ])('reads %j as %s', (raw, value) => {
    expect(parseBoolean('fail-if-empty', raw)).toBe(value)
  })

  it.each(['yes', 'no', '1', '0', 'tru', 'on', ''])('rejects %j', (raw) => {
    expect(inputError(() => parseBoolean('fail-if-empty', raw)).message).toBe(
      `Input "fail-if-empty": ${JSON.stringify(raw)} is not a boolean. Expected true or false.`
    )
  })
})

describe('parseInteger', () => {
  it('reads whole numbers within bounds', () => {
    expect(parseInteger('max-attempts', '5', { min: 1, max: 20 })).toBe(5)
    expect(parseInteger('max-attempts', ' 20 ', { min: 1, max: 20 })).toBe(20)
    expect(parseInteger('offset', '-3')).toBe(-3)
    expect(parseInteger('offset', '+3')).toBe(3)
  })

  it('rejects a negative number below the minimum', () => {
    expect(inputError(() => parseInteger('max-attempts', '-1', { min: 1, max: 20 })).message).toBe(
      'Input "max-attempts": "-1" is out of range. Expected a whole number between 1 and 20.'
    )
  })

  it('rejects a number above the maximum', () => {
    expect(inputError(() => parseInteger('max-attempts', '21', { min: 1, max: 20 })).message).toBe(
      'Input "max-attempts": "21" is out of range. Expected a whole number between 1 and 20.'
    )
  })

  it.each(['five', '1.5', '1e3', '0x10', '', '5 attempts'])('rejects non-numeric %j', (raw) => {
    expect(inputError(() => parseInteger('max-attempts', raw, { min: 1 })).message).toBe(
      `Input "max-attempts": ${JSON.stringify(raw)} is not a whole number. Expected a whole number at least 1.`
    )
  })
})

describe('parseStates', () => {
  it('reads states, comma or space separated, or as JSON', () => {
    expect(parseStates('states', 'running')).toEqual(['running'])
    expect(parseStates('states', 'running, stopped pending')).toEqual([
      'running',
      'stopped',
      'pending'
    ])
    expect(parseStates('states', '["running","stopping"]')).toEqual(['running', 'stopping'])
  })

  it('rejects an unknown state, listing the valid ones', () => {
    expect(inputError(() => parseStates('states', 'running,sleeping')).message).toBe(
      'Input "states": "sleeping" is not one of: pending, running, shutting-down, terminated, stopping, stopped.'
    )
    // Case matters, as in the EC2 API.
    expect(inputError(() => parseStates('states', 'Running')).message).toContain('"Running"')
  })

  it('rejects an empty list', () => {
    expect(inputError(() => parseStates('states', ' , ')).message).toBe(
      'Input "states": is empty. Expected one or more of: pending, running, shutting-down, terminated, stopping, stopped.'
    )
  })
})

describe('parseEnv', () => {
  const env = (raw: string) => parseEnv('env', raw)
  const error = (raw: string) => inputError(() => env(raw)).message

  it('reads NAME=value lines, values keeping commas, spaces and "="', () => {
    expect(env('RAILS_ENV=production\n\nGREETING=hello, world\nQUERY=a=b \n')).toEqual([
      ['RAILS_ENV', 'production'],
      ['GREETING', 'hello, world'],
      ['QUERY', 'a=b ']
    ])
    expect(env('')).toEqual([])
    expect(env('_X=')).toEqual([['_X', '']])
  })

  it('reads NAME<<DELIMITER heredocs byte for byte, as GITHUB_ENV does', () => {
    const message = 'Fix login\n\nPATH=/tmp/x\n  indented $(touch x) `id` \'q\' "d"\n\nEOF2\n'
    expect(env(`GIT_SHA=abc\nMSG<<EOF\n${message}\nEOF\nAFTER=1`)).toEqual([
      ['GIT_SHA', 'abc'],
      ['MSG', message],
      ['AFTER', '1']
    ])
    // An empty value, a delimiter with symbols, and "=" after "<<" belongs to the delimiter.
    expect(env('EMPTY<<END\nEND\nB<<a=b\nx\na=b')).toEqual([
      ['EMPTY', ''],
      ['B', 'x']
    ])
    // "=" before "<<" makes a plain line whose value holds "<<".
    expect(env('A=x<<y')).toEqual([['A', 'x<<y']])
  })

  it('a commit message body in the heredoc cannot add a variable', () => {
    const sha = '0123456789abcdef0123456789abcdef01234567'
    const message = 'Fix login\n\nPATH=/tmp/x\nLD_PRELOAD=/tmp/x.so\nEOF\nRAILS_ENV=test'
    expect(env(`COMMIT_MESSAGE<<EOF_${sha}\n${message}\nEOF_${sha}`)).toEqual([
      ['COMMIT_MESSAGE', message]
    ])
  })

  it.each([
    ['no equals sign', 1],
    ['OK=1\nFix login', 2],
    ['OK=1\n\n  Closes #12', 3]
  ])('names the line of %j that is neither form, never its text', (raw, line) => {
    const message = error(raw)
    expect(message).toBe(
      `Input "env": line ${line} is neither NAME=value nor NAME<<DELIMITER. Expected one variable per line, or NAME<<DELIMITER, the value's lines, then a line holding only DELIMITER.`
    )
  })

  it.each([
    ['=value', '='],
    ['1ABC=x', '='],
    ['MY-VAR=secret-ish', '='],
    ['A B=x', '='],
    ['MY-VAR<<EOF\nx\nEOF', '<<']
  ])('rejects the bad name in %j without quoting it', (line, sign) => {
    const message = error(`OK=1\n${line}`)
    expect(message).toBe(
      `Input "env": line 2: the name before "${sign}" is not a shell variable name. Expected letters, digits and _, not starting with a digit.`
    )
    expect(message).not.toContain(line.split(sign)[0]!.trim() || '=value')
  })

  it('rejects a heredoc without a delimiter, or never closed, naming its line only', () => {
    expect(error('A=1\nMSG<<\nx')).toBe(
      `Input "env": line 2: MSG<< has no delimiter. Expected NAME<<DELIMITER, the value's lines, then a line holding only DELIMITER.`
    )
    const unclosed = error('A=1\nMSG<<EOF \nsecret value\nEOF')
    expect(unclosed).toBe(
      'Input "env": line 2: the value of MSG is never closed. Expected a later line holding only its delimiter, exactly as written after "<<" (spaces count).'
    )
    expect(unclosed).not.toContain('secret')
  })

  it.each([
    ['PATH', 'changes where the shell finds commands or how it reads and runs them'],
    ['IFS', 'changes where the shell finds commands or how it reads and runs them'],
    ['ENV', 'changes where the shell finds commands or how it reads and runs them'],
    ['BASH_ENV', 'changes where the shell finds commands or how it reads and runs them'],
    ['BASH_FUNC_x', 'changes where the shell finds commands or how it reads and runs them'],
    ['SHELLOPTS', 'changes where the shell finds commands or how it reads and runs them'],
    ['BASHOPTS', 'changes where the shell finds commands or how it reads and runs them'],
    ['PS4', 'changes where the shell finds commands or how it reads and runs them'],
    ['PROMPT_COMMAND', 'changes where the shell finds commands or how it reads and runs them'],
    ['GLOBIGNORE', 'changes where the shell finds commands or how it reads and runs them'],
    ['CDPATH', 'changes where the shell finds commands or how it reads and runs them'],
    ['LD_PRELOAD', 'changes what the dynamic loader loads into every program'],
    ['LD_LIBRARY_PATH', 'changes what the dynamic loader loads into every program'],
    ['LD_AUDIT', 'changes what the dynamic loader loads into every program'],
    ['UID', 'is read-only in bash, so exporting it would fail on the host'],
    ['HOME', 'is set by the script from the user the commands run as (run-as)'],
    ['LOGNAME', 'is set by the script from the user the commands run as (run-as)'],
    ['ebs_autoscale_log', 'is reserved for the script itself']
  ])('refuses %s by name, whichever form sets it', (name, why) => {
    const expected = `Input "env": line 2 sets ${name}, which ${why}: it is refused. Expected your application's own variables; set ${name} inside commands if a command really needs it.`
    expect(error(`OK=1\n${name}=/tmp/x`)).toBe(expected)
    expect(error(`OK=1\n${name}<<EOF\n/tmp/x\nEOF`)).toBe(expected)
    expect(refusedEnvName(name)).toBe(why)
  })

  it('takes names that only look close to refused ones', () => {
    for (const name of ['MYPATH', 'PATHS', 'LD', 'HOMEPAGE', 'BASHFUL', 'ENVIRONMENT']) {
      expect(refusedEnvName(name)).toBeUndefined()
    }
  })

  it('rejects a name set twice, in either form', () => {
    expect(error('A=1\nB=2\nA=3')).toBe('Input "env": line 3 sets A again (line 1 set it first).')
    expect(error('A<<EOF\n1\nEOF\nA=3')).toBe(
      'Input "env": line 4 sets A again (line 1 set it first).'
    )
  })
})

describe('parseUserName', () => {
  it.each(['deploy', 'ec2-user', 'www-data', '_app', 'first.last', 'a'.repeat(32)])(
    'takes %j',
    (name) => {
      expect(parseUserName('run-as', ` ${name} `)).toBe(name)
    }
  )

  it.each([
    '1000',
    '-rf',
    '.hidden',
    'a b',
    'dom\\user',
    'user@corp',
    'x;id',
    '~root',
    'a'.repeat(33)
  ])('rejects %j', (raw) => {
    expect(inputError(() => parseUserName('run-as', raw)).message).toBe(
      `Input "run-as": ${JSON.stringify(raw)} is not a user name. Expected a Linux user name such as "deploy" or "ec2-user": letters, digits, _, . and -, not starting with a digit, . or -, at most 32 characters.`
    )
  })
})

describe('parseGroupNames (asg-name)', () => {
  it('splits on newlines and commas, never on spaces, trims, and drops duplicates in order', () => {
    expect(parseGroupNames('asg-name', 'web-asg')).toEqual(['web-asg'])
    expect(parseGroupNames('asg-name', 'web-asg, worker-asg')).toEqual(['web-asg', 'worker-asg'])
    expect(parseGroupNames('asg-name', '\n web-asg\r\nspot workers \n\nweb-asg,\n')).toEqual([
      'web-asg',
      'spot workers'
    ])
    expect(parseGroupNames('asg-name', ' \n , ')).toEqual([])
  })

  it('names the input and quotes a name that is too long or holds a control character', () => {
    const long = 'a'.repeat(256)
    expect(inputError(() => parseGroupNames('asg-name', `web, ${long}`)).message).toBe(
      `Input "asg-name": "${long}" is not an Auto Scaling group name. Expected names of up to 255 characters, one per line or comma separated, e.g. "web-asg, worker-asg".`
    )
    expect(inputError(() => parseGroupNames('asg-name', 'web\tasg')).message).toBe(
      'Input "asg-name": "web\\tasg" is not an Auto Scaling group name. Expected names of up to 255 characters, one per line or comma separated, e.g. "web-asg, worker-asg".'
    )
    expect(parseGroupNames('asg-name', 'a'.repeat(255))).toEqual(['a'.repeat(255)])
  })
})

describe('Inputs', () => {
  const inputs = (values: Record<string, string>): Inputs =>
    new Inputs((name) => values[name] ?? '')

  it('uses the fallback only when an input is unset or blank', () => {
    const i = inputs({ 'max-attempts': '  ', 'fail-if-empty': '' })
    expect(i.integer('max-attempts', 5, { min: 1 })).toBe(5)
    expect(i.boolean('fail-if-empty', true)).toBe(true)
    expect(i.states('states', 'running')).toEqual(['running'])
    expect(i.duration('timeout', '10m')).toBe(600_000)
    expect(i.countOrPercent('batch-size', '25%')).toEqual({ kind: 'percent', value: 25 })
    expect(i.oneOf('mode', ['a', 'b'] as const, 'a')).toBe('a')
    expect(i.optional('asg-name')).toBeUndefined()
    expect(i.string('name', 'x')).toBe('x')
    expect(i.list('instance-ids')).toEqual([])
  })

  it('never falls back silently on a value that is set but bad', () => {
    const i = inputs({ 'max-attempts': 'lots', 'fail-if-empty': 'yes', mode: 'c' })
    expect(() => i.integer('max-attempts', 5)).toThrow('Input "max-attempts": "lots"')
    expect(() => i.boolean('fail-if-empty', true)).toThrow('Input "fail-if-empty": "yes"')
    expect(() => i.oneOf('mode', ['a', 'b'] as const, 'a')).toThrow(
      'Input "mode": "c" is not one of: a, b.'
    )
  })

  it('names a missing required input and what it expects', () => {
    expect(inputError(() => inputs({}).required('script', 'the commands to run')).message).toBe(
      'Input "script": is required. Expected the commands to run.'
    )
  })

  it('keeps a script as written but for surrounding blank lines', () => {
    expect(inputs({ script: '\n  cd /srv\n  make install\n\n' }).text('script')).toBe(
      '  cd /srv\n  make install'
    )
  })

  it('reads tags and env untrimmed, and run-as only when set', () => {
    const i = inputs({
      tags: 'Role=app\nEnvironment=production\n',
      env: 'A=1 \n',
      'run-as': 'deploy'
    })
    expect(Object.fromEntries(i.tags('tags'))).toEqual({
      Role: ['app'],
      Environment: ['production']
    })
    expect(i.env('env')).toEqual([['A', '1 ']])
    expect(i.user('run-as')).toBe('deploy')
    expect(inputs({}).user('run-as')).toBeUndefined()
  })
})

describe('the env of the example workflows', () => {
  const SHA = 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3'
  const MESSAGE = "Fix login\n\nPATH=/tmp/x\nEOF\nLD_PRELOAD=/tmp/x.so\n$(touch pwned) it's `id`"
  // What GitHub puts in place of each expression, hostile where a person or an event chooses it.
  const EXPRESSIONS: Record<string, string> = {
    'github.sha': SHA,
    'github.event.head_commit.message': MESSAGE,
    'inputs.ref': 'main\nRAILS_ENV=test',
    'github.run_id': '4242',
    'github.run_attempt': '1'
  }
  const VALUES: Record<string, string> = {
    GIT_SHA: SHA,
    COMMIT_MESSAGE: MESSAGE
  }
  const dir = join(ROOT, 'examples', 'workflows')

  // The examples that pass values through env (dispatch.yml passes its ref as `commit` instead).
  const withEnv = readdirSync(dir).filter(
    (f) => f.endsWith('.yml') && /^\s+env: /m.test(readFileSync(join(dir, f), 'utf8'))
  )
  it('finds examples that pass values through env', () => {
    expect(withEnv.length).toBeGreaterThanOrEqual(2)
  })

  it.each(withEnv)('%s: every value arrives whole, none adds a variable', (file) => {
    const workflow = parse(readFileSync(join(dir, file), 'utf8')) as {
      jobs: Record<string, { steps: Array<{ with?: Record<string, string> }> }>
    }
    const envs = Object.values(workflow.jobs).flatMap((job) =>
      job.steps.flatMap((step) => (step.with?.['env'] ? [step.with['env']] : []))
    )
    expect(envs.length).toBeGreaterThan(0)
    for (const env of envs) {
      const expanded = env.replace(/\$\{\{\s*([\w.]+)\s*\}\}/g, (_, name: string) => {
        expect(EXPRESSIONS).toHaveProperty([name])
        return EXPRESSIONS[name]!
      })
      // One variable per NAME= or NAME<< line written in the YAML, each holding its whole value.
      const names = [...env.matchAll(/^([A-Za-z_]\w*)(=|<<)/gm)].map((m) => m[1]!)
      expect(parseEnv('env', expanded)).toEqual(names.map((name) => [name, VALUES[name]]))
    }
  })
})
