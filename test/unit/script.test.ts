/**
 * The script sent to each host, run here through real `sh` (dash on this machine, as on Ubuntu)
 * and `bash` (as /bin/sh on Amazon Linux): what arrives, what runs, as whom, what is kept and
 * what the user reads back when the commands fail.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parse } from 'yaml'
import {
  buildScript,
  KEEP_LOGS,
  LOG_DIRECTORY,
  NO_SUCH_USER,
  type ScriptOptions
} from '../../src/rollout/script.js'
import { readHostOutput, TAIL_BYTES, TAIL_LINES } from '../../src/rollout/output.js'
import { shellQuote } from '../../src/shell.js'
import { ROOT } from '../../support/emulator/install.mjs'

const SHELLS = [['sh'], ['bash']] as const

/** A fresh directory for one test, readable by every user (run-as tests need to reach in). */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ebs-autoscale-script-'))
  chmodSync(dir, 0o755)
  return dir
}

interface Run {
  status: number | null
  stdout: string
  stderr: string
  logs: string
}

/** Runs the script as SSM would (`sh -c` in some directory), its logs in a directory of its own. */
function runScript(
  shell: string,
  options: Omit<ScriptOptions, 'logDirectory'>,
  run: { cwd?: string; env?: NodeJS.ProcessEnv; logs?: string } = {}
): Run {
  const logs = run.logs ?? join(scratch(), 'logs')
  const script = buildScript({ ...options, logDirectory: logs }).join('\n')
  const r = spawnSync(shell, ['-c', script], {
    cwd: run.cwd ?? scratch(),
    env: run.env ?? process.env,
    encoding: 'utf8',
    timeout: 20_000
  })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, logs }
}

const logFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.log'))
const onlyLog = (dir: string): string => {
  const files = logFiles(dir)
  expect(files).toHaveLength(1)
  return join(dir, files[0]!)
}
const homeOf = (user: string): string =>
  execFileSync('getent', ['passwd', user]).toString().split(':')[5]!
const isRoot = process.getuid?.() === 0

describe('env values', () => {
  const nasty: Array<[string, string]> = [
    ['QUOTES', `it's "quoted" 'twice'`],
    ['SUBSHELL', '$(touch PWNED) and `touch PWNED2`'],
    ['NEWLINES', 'line one\nline two\n\nline four\n'],
    ['DOLLARS', '$HOME ${PATH} $1 \\ \\n %s'],
    ['EMPTY', '']
  ]

  it.each(SHELLS)('arrive byte for byte in %s and nothing in them runs', (shell) => {
    // The exports run in the directory SSM starts the script in, the commands in
    // working-directory: an injected command would create its file in one of them.
    const start = scratch()
    const work = join(start, 'work')
    mkdirSync(work)
    const r = runScript(
      shell,
      {
        commands: `printf '%s\\0' "$QUOTES" "$SUBSHELL" "$NEWLINES" "$DOLLARS" "$EMPTY" >"${start}/values"`,
        env: nasty,
        workingDirectory: work
      },
      { cwd: start }
    )
    expect(r.status).toBe(0)
    const values = readFileSync(join(start, 'values'), 'utf8')
    expect(values.split('\0').slice(0, -1)).toEqual(nasty.map(([, v]) => v))
    expect(readdirSync(start).sort()).toEqual(['values', 'work'])
    expect(readdirSync(work)).toEqual([])
  })

  it('are exported single-quoted, a quote inside written as an escaped quote', () => {
    const script = buildScript({ commands: './deploy', env: [['MSG', `it's\nok`]] })
    expect(script).toContain(`export MSG='it'\\''s`)
    expect(script).toContain(`ok'`)
    expect(shellQuote(`a'b`)).toBe(`'a'\\''b'`)
  })
})

describe('the commands', () => {
  it.each(SHELLS)(
    'stop at the first failing command in %s and the script exits with its code',
    (shell) => {
      const r = runScript(shell, { commands: 'echo one\necho two >&2\n(exit 3)\necho never' })
      expect(r.status).toBe(3)
      // stderr is merged into stdout, in order; the script's own stderr is the tail block.
      expect(r.stdout).toBe('one\ntwo\n')
      expect(r.stdout).not.toContain('never')
    }
  )

  it('stop on a failing pipeline under bash (pipefail); sh has no pipefail', () => {
    const commands = 'false | true\necho after'
    expect(runScript('bash', { commands }).status).toBe(1)
    const sh = runScript('sh', { commands })
    expect([sh.status, sh.stdout]).toEqual([0, 'after\n'])
  })

  it.each(SHELLS)('run in working-directory, quoted, in %s', (shell) => {
    const dir = join(scratch(), `my app's $(dir)`)
    mkdirSync(dir)
    const r = runScript(shell, { commands: 'pwd', workingDirectory: dir })
    expect([r.status, r.stdout]).toEqual([0, `${dir}\n`])
  })

  it.each(SHELLS)(
    "get root's HOME in %s when SSM gives none, and keep a HOME it gives",
    (shell) => {
      const env = { ...process.env }
      delete env['HOME']
      expect(runScript(shell, { commands: 'echo "$HOME"' }, { env }).stdout).toBe(
        `${homeOf('root')}\n`
      )
      expect(
        runScript(shell, { commands: 'echo "$HOME"' }, { env: { ...env, HOME: '/srv' } }).stdout
      ).toBe('/srv\n')
    }
  )

  it('do not keep the script waiting on a daemon they start', () => {
    const started = Date.now()
    const r = runScript('sh', { commands: 'sleep 5 >/dev/null 2>&1 &\necho started' })
    expect([r.status, r.stdout]).toEqual([0, 'started\n'])
    expect(Date.now() - started).toBeLessThan(4_000)
  })
})

describe('the log on the host and the tail printed on failure', () => {
  it.each(SHELLS)('a success in %s prints the output only and keeps it in a 0600 log', (shell) => {
    const r = runScript(shell, {
      commands: 'echo built\necho warned >&2',
      logName: 'run-42-1-commands'
    })
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'built\nwarned\n', ''])
    const log = onlyLog(r.logs)
    expect(log).toMatch(/\/\d{8}T\d{6}Z-run-42-1-commands-\d+\.log$/)
    expect(readFileSync(log, 'utf8')).toBe('built\nwarned\n')
    expect(statSync(log).mode & 0o777).toBe(0o600)
    expect(statSync(r.logs).mode & 0o777).toBe(0o700)
  })

  it.each(SHELLS)(
    'a failure in %s prints the last lines after any amount of output, and SSM keeps them',
    (shell) => {
      // 3,000 lines: far past the 24,000 characters of stdout SSM returns.
      const r = runScript(shell, {
        commands:
          'i=1; while [ $i -le 3000 ]; do echo "line $i"; i=$((i+1)); done\necho "npm ERR! missing script" >&2\nexit 7'
      })
      expect(r.status).toBe(7)
      const log = onlyLog(r.logs)
      expect(readFileSync(log, 'utf8').split('\n')).toHaveLength(3002)
      // SSM returns the first 24,000 characters of stdout and 8,000 of stderr.
      const out = readHostOutput(r.stdout.slice(0, 24_000), r.stderr.slice(0, 8_000))
      expect(out.stdoutCut).toBe(true)
      expect(out.stderrCut).toBe(false)
      expect(out.tailCut).toBe(false)
      expect(out.logPath).toBe(log)
      expect(out.exitCode).toBe(7)
      const expected = Array.from({ length: TAIL_LINES - 1 }, (_, i) => `line ${2962 + i}`)
      expect(out.tail).toBe([...expected, 'npm ERR! missing script'].join('\n'))
    }
  )

  it('bounds the block to what SSM keeps of stderr, however long the lines', () => {
    const r = runScript('sh', {
      commands: `i=0; while [ $i -lt 60 ]; do printf '%0500d\\n' $i; i=$((i+1)); done\nprintf 'no newline at the end'\nexit 2`
    })
    expect(r.status).toBe(2)
    expect(r.stderr.length).toBeLessThan(8_000)
    const out = readHostOutput(r.stdout, r.stderr)
    expect(out.tail!.length).toBeLessThanOrEqual(TAIL_BYTES)
    expect(out.tail!.endsWith('\nno newline at the end')).toBe(true)
    expect(out.exitCode).toBe(2)
  })

  it('keeps the newest logs only, and no other file is touched', () => {
    const logs = join(scratch(), 'logs')
    mkdirSync(logs)
    const old = Date.now() / 1000 - 3600
    for (let i = 0; i < KEEP_LOGS + 5; i++) {
      const f = join(logs, `old-${String(i).padStart(2, '0')}.log`)
      writeFileSync(f, 'x')
      utimesSync(f, old + i, old + i)
    }
    writeFileSync(join(logs, 'notes.txt'), 'mine')
    const r = runScript('sh', { commands: 'echo new', logName: 'new' }, { logs })
    expect(r.status).toBe(0)
    const kept = logFiles(logs).sort()
    expect(kept).toHaveLength(KEEP_LOGS)
    expect(kept.filter((f) => f.startsWith('old-'))).toEqual(
      Array.from({ length: KEEP_LOGS - 1 }, (_, i) => `old-${String(i + 6).padStart(2, '0')}.log`)
    )
    expect(kept.some((f) => /-new-\d+\.log$/.test(f))).toBe(true)
    expect(existsSync(join(logs, 'notes.txt'))).toBe(true)
  })

  it('falls back to a temporary directory when the log directory cannot be made', () => {
    const r = runScript('sh', { commands: 'exit 4' }, { logs: '/dev/null/ebs-autoscale' })
    expect(r.status).toBe(4)
    const out = readHostOutput(r.stdout, r.stderr)
    expect(out.logPath).toMatch(/\/tmp\.[^/]+\/\d{8}T\d{6}Z-commands-\d+\.log$/)
    expect(existsSync(out.logPath!)).toBe(true)
    rmSync(join(out.logPath!, '..'), { recursive: true })
  })
})

describe('run-as', () => {
  // runuser works for root only; CI and this sandbox run as root.
  const describeRoot = isRoot ? describe : describe.skip
  describeRoot(isRoot ? 'as root' : 'as root (skipped: runuser needs root)', () => {
    it.each(SHELLS)('root in %s: the login environment of root, env values kept', (shell) => {
      const env: NodeJS.ProcessEnv = { ...process.env, USER: 'someone', LOGNAME: 'someone' }
      delete env['HOME']
      const r = runScript(
        shell,
        {
          commands: 'echo "$(id -un) $HOME $USER $LOGNAME $GIT_SHA"\nexit 5',
          env: [['GIT_SHA', 'abc $(id)']],
          runAs: 'root'
        },
        { env }
      )
      expect(r.status).toBe(5)
      expect(r.stdout).toBe(`root ${homeOf('root')} root root abc $(id)\n`)
    })
  })

  it.each(SHELLS)('a host without the user fails by name with exit code 67 in %s', (shell) => {
    const dir = scratch()
    const r = runScript(shell, { commands: `touch ${dir}/ran`, runAs: 'nosuchuser' })
    expect(r.status).toBe(NO_SUCH_USER)
    expect(r.stderr).toBe('ebs-autoscale: run-as: there is no user nosuchuser on this host\n')
    expect(existsSync(join(dir, 'ran'))).toBe(false)
  })

  // A real second user needs root and useradd: CI and this sandbox run as root.
  const canAddUser = isRoot && spawnSync('useradd', ['--help']).status === 0
  const user = `ebsas${process.pid % 100000}`
  const home = join(tmpdir(), `ebs-autoscale-home-${user}`)
  const describeUser = canAddUser ? describe : describe.skip
  describeUser(
    canAddUser
      ? `a real user (${user}, made for this test)`
      : 'a real user (skipped: creating one needs root and useradd)',
    () => {
      beforeAll(() => {
        spawnSync('userdel', [user]) // left over by a run that died
        execFileSync('useradd', ['-M', '-d', home, '-s', '/usr/sbin/nologin', user])
        mkdirSync(home)
        chownSync(
          home,
          Number(execFileSync('id', ['-u', user])),
          Number(execFileSync('id', ['-g', user]))
        )
      })
      afterAll(() => {
        spawnSync('userdel', [user])
        rmSync(home, { recursive: true, force: true })
      })

      it.each([
        ['runuser', process.env['PATH']!],
        // Without /usr/sbin on PATH there is no runuser: su takes over.
        ['su', '/usr/bin:/bin']
      ])(
        'through %s: runs as the user, in its own environment, with env and working-directory',
        (via, path) => {
          const runuserOnPath = spawnSync('sh', ['-c', 'command -v runuser'], {
            env: { PATH: path }
          })
          expect(runuserOnPath.status === 0).toBe(via === 'runuser')
          const work = scratch()
          const logs = join(scratch(), 'logs')
          chownSync(work, Number(execFileSync('id', ['-u', user])), 0)
          const env = { PATH: path }
          const r = runScript(
            'sh',
            {
              commands: [
                'echo "$(id -un) $HOME $USER $LOGNAME $(pwd) $MSG"',
                'touch made',
                `ls ${logs} >/dev/null 2>&1 && echo "logs readable" || echo "logs private"`,
                'false',
                'echo never'
              ].join('\n'),
              env: [['MSG', "it's $(id)"]],
              runAs: user,
              workingDirectory: work
            },
            { env, logs }
          )
          expect(r.status).toBe(1)
          expect(r.stdout).toBe(
            `${user} ${home} ${user} ${user} ${work} it's $(id)\nlogs private\n`
          )
          expect(r.stdout).not.toContain('never')
          expect(statSync(join(work, 'made')).uid).toBe(Number(execFileSync('id', ['-u', user])))
          const log = onlyLog(r.logs)
          expect(statSync(log).uid).toBe(0)
          expect(statSync(log).mode & 0o777).toBe(0o600)
          expect(readHostOutput(r.stdout, r.stderr).logPath).toBe(log)
        }
      )
    }
  )
})

describe('what action.yml says the script does', () => {
  it.each(['action.yml', 'actions/rollout/action.yml'])(
    '%s states the same figures as the code',
    (file) => {
      const inputs = parse(readFileSync(join(ROOT, file), 'utf8')).inputs as Record<
        string,
        { description: string }
      >
      expect(inputs['commands']!.description).toContain(
        `kept in ${LOG_DIRECTORY}/ on the host (the newest ${KEEP_LOGS} logs); when it fails, its last ${TAIL_LINES} lines`
      )
      expect(inputs['run-as']!.description).toContain(`fails with exit code ${NO_SUCH_USER}`)
    }
  )
})
