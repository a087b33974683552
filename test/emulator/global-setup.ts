import { ensureEmulatorInstalled } from './moto.js'

/** Installs the emulator once, before any worker starts one of its own. */
export default function globalSetup(): void {
  ensureEmulatorInstalled((m) => process.stdout.write(`\n${m}\n`))
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'
}
