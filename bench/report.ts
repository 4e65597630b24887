/** A plain-text table: first column left-aligned, the rest (figures) right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, c) =>
    Math.max(header.length, ...rows.map((row) => (row[c] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export const kb = (bytes: number): string => (bytes / 1024).toFixed(1);
export const ms = (value: number): string => value.toFixed(2);
export const times = (ratio: number): string => `${ratio.toFixed(2)}×`;
export const verdict = (pass: boolean): string => (pass ? 'PASS' : 'FAIL');

export function heading(title: string): string {
  return `\n${title}\n${'='.repeat(title.length)}`;
}
