import { ensureEmulatorInstalled } from './install.mjs'

/** Installs the emulator once, before any test file starts one of its own. */
export default function globalSetup() {
  ensureEmulatorInstalled((m) => process.stdout.write(`\n${m}\n`))
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
}
