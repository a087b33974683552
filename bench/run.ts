/**
 * `npm run bench` runs every section; `npm run bench -- resolve-hosts rollout` runs those.
 * Each section is a module exporting `run(): Promise<void>` that prints its own tables.
 */
const SECTIONS: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  'resolve-hosts': () => import('./resolve-hosts.js'),
  rollout: () => import('./rollout.js'),
  snapshot: () => import('./snapshot.js'),
  deploy: () => import('./deploy.js'),
  traffic: () => import('./traffic.js'),
  releases: () => import('./releases.js')
}

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const unknown = asked.filter((name) => !(name in SECTIONS))
if (unknown.length) {
  console.error(
    `Unknown benchmark section(s): ${unknown.join(', ')}. Known: ${Object.keys(SECTIONS).join(', ')}.`
  )
  process.exit(2)
}
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'
for (const name of asked.length ? asked : Object.keys(SECTIONS)) {
  const started = Date.now()
  console.log(`\n# ${name}`)
  const section = await SECTIONS[name]!()
  await section.run()
  console.log(`(${name}: ${((Date.now() - started) / 1000).toFixed(1)} s)`)
}
