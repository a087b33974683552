/** Markdown for job summaries (GitHub renders the step summary file as Markdown). */

/** Escapes text for a table cell; empty cells show a dash. */
export function cell(text: string | number | undefined): string {
  if (text === undefined || text === '') return '–'
  return String(text).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')
}

export function table(
  header: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number | undefined>>
): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)
  ].join('\n')
}

export const code = (text: string): string => '`' + text.replace(/`/g, "'") + '`'
