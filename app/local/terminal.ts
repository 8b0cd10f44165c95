import { stripVTControlCharacters } from 'node:util';

/** Plain terminal output: aligned tables and a little colour when stdout is a terminal. */
const colour = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code: number) => (text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);

export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);

/** Visible width, ignoring colour codes. */
const width = (text: string) => stripVTControlCharacters(text).length;

/** Rows of cells as aligned columns; numbers (right-aligned) are the cells that look like numbers. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>, indent = '  '): string {
  const widths = header.map((title, column) => Math.max(width(title), ...rows.map((row) => width(row[column] ?? ''))));
  const numeric = header.map(
    (_, column) => rows.length > 0 && rows.every((row) => /^-?[\d.,]+$/.test(row[column] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    indent +
    cells
      .map((cell, column) => {
        const padding = ' '.repeat((widths[column] ?? 0) - width(cell));
        return numeric[column] ? padding + cell : cell + padding;
      })
      .join('  ')
      .trimEnd();
  return [line(header.map(bold)), ...rows.map(line)].join('\n');
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MB`;
}

export const formatCount = (n: number) => n.toLocaleString('en-US');
