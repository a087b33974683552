/**
 * Installs the AWS emulator (moto server, pinned in requirements.txt) into .venv-emulator when
 * it is missing. Plain JavaScript so jest's globalSetup and .ci/run can use it untranspiled:
 * `node support/emulator/install.mjs`.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = dirname(fileURLToPath(import.meta.url))
export const ROOT = resolve(HERE, '../..')
/** EBS_AUTOSCALE_EMULATOR_VENV moves it (CI points it nowhere to prove unit tests never install it). */
export const VENV = process.env.EBS_AUTOSCALE_EMULATOR_VENV || join(ROOT, '.venv-emulator')
export const PYTHON = join(VENV, 'bin', 'python')
export const REQUIREMENTS = join(HERE, 'requirements.txt')

function installed() {
  if (!existsSync(PYTHON)) return false
  try {
    execFileSync(PYTHON, ['-c', 'import moto.server, flask'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}

/** Idempotent; `log` hears about it only when something is installed. */
export function ensureEmulatorInstalled(log = () => undefined) {
  if (installed()) return
  log(`Installing the AWS emulator (${REQUIREMENTS}) into ${VENV} ...`)
  execFileSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' })
  execFileSync(
    PYTHON,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS],
    { stdio: 'inherit' }
  )
  if (!installed()) throw new Error(`The emulator did not install into ${VENV}`)
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureEmulatorInstalled((m) => console.log(m))
  console.log(`AWS emulator ready: ${PYTHON}`)
}
