import type { Log } from '../../src/log.js'

/** A Log that keeps every line, for assertions. */
export class RecordingLog implements Log {
  readonly lines: Array<{ level: string; message: string; title?: string }> = []
  info(message: string): void {
    this.lines.push({ level: 'info', message })
  }
  warning(message: string, a?: { title?: string }): void {
    this.lines.push({ level: 'warning', message, ...(a?.title ? { title: a.title } : {}) })
  }
  error(message: string, a?: { title?: string }): void {
    this.lines.push({ level: 'error', message, ...(a?.title ? { title: a.title } : {}) })
  }
  debug(message: string): void {
    this.lines.push({ level: 'debug', message })
  }
  group(title: string, lines: readonly string[]): void {
    this.lines.push({ level: 'group', message: [title, ...lines].join('\n') })
  }
  messages(level: string): string[] {
    return this.lines.filter((l) => l.level === level).map((l) => l.message)
  }
}
