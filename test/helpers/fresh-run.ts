import { VirtualClock } from '../../support/virtual-clock.js'
import { RecordingLog } from './log.js'

/**
 * What each test of a scripted-AWS file starts from: its mocks reset (nothing a previous test
 * scripted answers) and a new virtual clock and log (nothing it waited or logged leaks in).
 */
export function freshRun(...mocks: Array<{ reset(): unknown }>): {
  clock: VirtualClock
  log: RecordingLog
} {
  for (const mock of mocks) mock.reset()
  return { clock: new VirtualClock(), log: new RecordingLog() }
}
