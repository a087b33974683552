/** Runner-side helpers shared by the adapters: the only code that imports @actions/core. */
import * as core from '@actions/core'
import { createClients, type AwsClients } from '../../aws/clients.js'
import { errorMessage } from '../../errors.js'
import { Inputs } from '../../inputs.js'
import type { Log } from '../../log.js'

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

/** Clients from the common inputs `aws-region` and `max-attempts`. */
export function clientsFromInputs(inputs: Inputs, action: string): AwsClients {
  return createClients({
    region: inputs.optional('aws-region'),
    maxAttempts: inputs.integer('max-attempts', 5, { min: 1, max: 20 }),
    action
  })
}

/** Runs an action body; any error fails the step with its message. */
export async function runAction(body: () => Promise<void>): Promise<void> {
  try {
    await body()
  } catch (err) {
    core.setFailed(errorMessage(err))
  }
}

/** Sets outputs; arrays and objects as JSON, so the next step can feed them back in. */
export function setOutputs(outputs: Record<string, string | number | boolean | object>): void {
  for (const [name, value] of Object.entries(outputs)) {
    core.setOutput(name, typeof value === 'object' ? JSON.stringify(value) : String(value))
  }
}
