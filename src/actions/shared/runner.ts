/** Runner-side helpers shared by the adapters: the only code that imports @actions/core. */
import * as core from '@actions/core'
import { createClients, type Clients } from '../../aws/clients.js'
import { CLIENT_FIELDS, failureText, type FieldNames } from './fields.js'
import { provenance } from './context.js'
import { Inputs } from './inputs.js'
import type { Log } from '../../log.js'
import { makeRuntime, type Runtime } from '../../runtime.js'

export function readInputs(): Inputs {
  // Trimming is left to the parser, so scripts keep their indentation.
  return new Inputs((name) => core.getInput(name, { trimWhitespace: false }))
}

export const runnerLog: Log = {
  info: (m) => core.info(m),
  warning: (m, a) => core.warning(m, a?.title ? { title: a.title } : {}),
  error: (m, a) => core.error(m, a?.title ? { title: a.title } : {}),
  debug: (m) => core.debug(m),
  group: (title, lines) => {
    core.startGroup(title)
    for (const line of lines) core.info(line)
    core.endGroup()
  }
}

/**
 * The one runtime of a step: the real clock, the runner's log, and a signal that aborts on
 * SIGINT/SIGTERM (the runner cancelling the job), so every wait stops and the step still writes
 * its summary before it exits.
 */
export function runnerRuntime(): Runtime {
  const abort = new AbortController()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      core.warning(`Received ${signal}: stopping; commands still running are cancelled.`)
      abort.abort()
    })
  }
  return makeRuntime({ log: runnerLog, signal: abort.signal })
}

/** Clients from the common inputs `aws-region` and `max-attempts`, the run in their user agent. */
export function clientsFromInputs(inputs: Inputs, action: string): Clients {
  const { runId, runAttempt } = provenance()
  return createClients({
    region: inputs.optional('aws-region'),
    maxAttempts: inputs.integer('max-attempts', 5, { min: 1, max: 20 }),
    action,
    run: { id: runId, attempt: runAttempt }
  })
}

/**
 * Runs an action body; any error fails the step with its message, a SettingError's fields
 * named by the action's inputs (`fields`, the action's table; by default the client inputs).
 */
export async function runAction(
  body: () => Promise<void>,
  fields: FieldNames = CLIENT_FIELDS
): Promise<void> {
  try {
    await body()
  } catch (err) {
    core.setFailed(failureText(err, fields))
  }
}

/** Sets outputs; arrays and objects as JSON, so the next step can feed them back in. */
export function setOutputs(outputs: Record<string, string | number | boolean | object>): void {
  for (const [name, value] of Object.entries(outputs)) {
    core.setOutput(name, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
}
