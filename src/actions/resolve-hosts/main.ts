/** resolve-hosts: inputs -> resolveHosts -> outputs and summary. */
import * as core from '@actions/core'
import { ActionError } from '../../errors.js'
import { resolveHosts } from '../../hosts/resolve.js'
import { hostsTable, standbyNote } from '../../report/hosts.js'
import { hostOutputs, readHostQuery } from '../shared/hosts.js'
import { clientsFromInputs, readInputs, runAction, setOutputs } from '../shared/runner.js'
import { FIELDS } from './fields.js'

export async function run(): Promise<void> {
  await runAction(async () => {
    const inputs = readInputs()
    const query = readHostQuery(inputs, {
      requireSelector: true,
      states: inputs.states('states', 'running')
    })
    const failIfEmpty = inputs.boolean('fail-if-empty', true)
    const clients = clientsFromInputs(inputs, 'resolve-hosts')

    core.info(`Looking for instances in ${clients.region}: ${query.description}`)
    const { hosts } = await resolveHosts(clients, query)
    core.info(
      `Found ${hosts.length} instance(s)${hosts[0] ? `; primary ${hosts[0].instanceId}` : ''}`
    )

    setOutputs(hostOutputs(hosts))
    await core.summary
      .addRaw(`## resolve-hosts\n\nFilter: ${query.description}\n\n`)
      .addRaw(hosts.length ? hostsTable(hosts) : '**No instance matched.**')
      .addEOL()
      .addRaw(standbyNote(hosts) ? `\n${standbyNote(hosts)}\n` : '')
      .write()

    if (hosts.length === 0 && failIfEmpty) {
      throw new ActionError(
        `No instance matched ${query.description} in ${clients.region}. Check the tags, states and region, or set fail-if-empty: false.`
      )
    }
  }, FIELDS)
}
