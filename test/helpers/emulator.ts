/**
 * One emulator per test file (files run in parallel), reset before every test unless
 * `resetBeforeEach: false` (a file that seeds one large world in beforeAll and queries it in
 * several tests; it may call `reset()` itself).
 */
import { afterAll, beforeAll, beforeEach } from '@jest/globals'
import { startEmulator, type Emulator } from '../../support/emulator/moto.js'
import { testClients, type TestClients } from '../../support/emulator/world.js'

export interface EmulatorHandle {
  readonly endpoint: string
  readonly env: Record<string, string>
  /** Where exec hosts' code volume directories live (`codeDir` in world.ts). */
  readonly root: string
  readonly clients: TestClients
  reset(): Promise<void>
  /** The next `times` successful calls of `action` take effect, then lose their answer. */
  loseAnswer(action: string, times?: number): Promise<void>
}

export function useEmulator(options: { resetBeforeEach?: boolean } = {}): EmulatorHandle {
  let emulator: Emulator | undefined
  let clients: TestClients | undefined
  beforeAll(async () => {
    emulator = await startEmulator()
    clients = testClients(emulator.endpoint)
  }, 120_000)
  beforeEach(async () => {
    if (options.resetBeforeEach ?? true) await emulator!.reset()
  })
  afterAll(async () => {
    await emulator?.stop()
  })
  return {
    get endpoint() {
      return emulator!.endpoint
    },
    get env() {
      return emulator!.env
    },
    get root() {
      return emulator!.root
    },
    get clients() {
      return clients!
    },
    reset: () => emulator!.reset(),
    loseAnswer: (action, times) => emulator!.loseAnswer(action, times)
  }
}
