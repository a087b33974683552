/**
 * npm run demo: the whole pipeline against a local AWS emulator, the way this project is meant
 * to be used. Three app servers with their code on /dev/sdf, a launch template mapping /dev/sdf
 * to a snapshot, an Auto Scaling group following $Default. The committed dist/index.js runs
 * exactly as the GitHub runner would run it; the group scales out in the middle of the deploy
 * and again after it. Then (demo/traffic.ts) a fleet behind a target group: each host leaves
 * service, drains, deploys and comes back healthy while capacity stays at min-healthy. Exits 0
 * only if the instance launched afterwards boots from the new snapshot, the one launched
 * mid-deploy was caught up, and the target group never had fewer healthy hosts than min-healthy.
 */
import { startEmulator } from '../support/emulator/moto.js'
import {
  codeSnapshotOf,
  codeVolumeWorld,
  groupMembers,
  setDesired,
  testClients
} from '../support/emulator/world.js'
import { BUNDLES, runBundle } from '../support/bundle.js'
import { trafficDemo } from './traffic.js'

const say = (line = '') => process.stdout.write(`${line}\n`)

say('Starting the AWS emulator (moto; installed into .venv-emulator on first use)...')
const emulator = await startEmulator()
let ok: boolean
try {
  const c = testClients(emulator.endpoint)
  // Each command "runs" for a second on every host, so the deploy takes a few seconds.
  const tags = { Role: 'app', Environment: 'production', 'emulator:ssm-seconds': '1' }
  const world = await codeVolumeWorld(c, { tags })
  const before = await groupMembers(c, world.asgName)
  say(
    `\nThe world: Auto Scaling group ${world.asgName} (following $Default) with ${before.length} app servers,`
  )
  say(
    `launch template ${world.launchTemplateName} v1 mapping /dev/sdf to ${world.initialSnapshotId}.`
  )

  say(
    '\nRunning dist/index.js as the runner would (INPUT_* variables, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY)...'
  )
  let midDeploy: string[] = []
  const started = Date.now()
  const run = await runBundle(
    BUNDLES.deploy,
    {
      'asg-name': world.asgName,
      'run-once': './bin/migrate',
      commands: 'cd /srv/app && ./bin/deploy "$GIT_SHA"',
      env: 'GIT_SHA=0123456789abcdef0123456789abcdef01234567',
      'mount-point': '/srv/app'
    },
    emulator.env,
    {
      onOutput: {
        when: 'Starting wave 3',
        run: async () => {
          await setDesired(c, world.asgName, before.length + 1)
          midDeploy = (await groupMembers(c, world.asgName)).filter((id) => !before.includes(id))
          say(
            `  ... meanwhile the group scaled out: ${midDeploy.join(' ')} booted from template v1 (old code)`
          )
        }
      }
    }
  )
  const o = run.outputs
  say(
    `\nThe step ${run.exitCode === 0 ? 'succeeded' : `FAILED (exit code ${run.exitCode})`} in ${((Date.now() - started) / 1000).toFixed(1)} s:`
  )
  say(`  deployed to        ${JSON.parse(o['succeeded-instance-ids'] ?? '[]').join(' ')}`)
  say(`  primary            ${o['primary-instance-id']} (ran run-once, then was snapshotted)`)
  say(`  snapshot           ${o['snapshot-id']} of ${o['volume-id']} (${o['snapshot-state']})`)
  say(
    `  launch template    ${world.launchTemplateName} default v${o['previous-default-version']} -> v${o['launch-template-version']}`
  )
  say(
    `  caught up          ${JSON.parse(o['caught-up-instance-ids'] ?? '[]').join(' ') || '(none)'}`
  )
  if (run.exitCode !== 0)
    say(
      run.stdout
        .split('\n')
        .filter((l) => l.startsWith('::error'))
        .join('\n')
    )

  say('\nScaling the group out once more, after the deploy...')
  await setDesired(c, world.asgName, before.length + midDeploy.length + 1)
  const [fresh] = (await groupMembers(c, world.asgName)).filter(
    (id) => !before.includes(id) && !midDeploy.includes(id)
  )
  const freshSnapshot = fresh ? await codeSnapshotOf(c, fresh) : undefined
  say(`  new instance       ${fresh}: /dev/sdf created from ${freshSnapshot}`)

  const caughtUp = JSON.parse(o['caught-up-instance-ids'] ?? '[]') as string[]
  ok =
    run.exitCode === 0 &&
    !!o['snapshot-id'] &&
    freshSnapshot === o['snapshot-id'] &&
    midDeploy.length === 1 &&
    caughtUp.join() === midDeploy.join()
  say(
    ok
      ? `\n✔ The instance launched after the deploy booted from the new snapshot, and the one launched during it was caught up.`
      : `\n✘ Something is off: see above.`
  )
  say(
    `\nThe job summary the runner would show is ${run.summary.split('\n').length} lines of Markdown; its first lines:\n`
  )
  say(run.summary.split('\n').slice(0, 14).join('\n'))

  ok = (await trafficDemo(emulator)) && ok
} finally {
  await emulator.stop()
}
process.exit(ok ? 0 : 1)
