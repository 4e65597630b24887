import type { Summary } from './stats';

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

/** A summary's p50 and p99 cells, in ms. */
export const p50p99 = (summary: Pick<Summary, 'p50' | 'p99'>): string[] => [ms(summary.p50), ms(summary.p99)];

/** A timing table's row: what was timed, how many samples, p50 and p99 (and the slowest, `withMax`) in ms. */
export function timingRow(label: string, summary: Summary, withMax = false): string[] {
  return [label, String(summary.n), ...p50p99(summary), ...(withMax ? [ms(summary.max)] : [])];
}

/** A figure checked as a ratio to its DynamoDB floor at p50: its FAIL line when over the target. */
export function floorRatioFindings(what: string, ratioP50: number, target: number): string[] {
  return ratioP50 <= target
    ? []
    : [`FAIL  ${what}: ${times(ratioP50)} its DynamoDB floor at p50 (target ≤ ${target}×)`];
}
