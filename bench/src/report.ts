import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bold, dim, red, table } from '@lakehouse/app/local/terminal';
import { machineLine } from './machine';
import type { BenchResults } from './results';
import { rawTables, summaryTables, type Table } from './tables';
import { RESULTS_DIR } from './workspace';

/** The summary tables and any failure, for the console. */
export function consoleReport(results: BenchResults): string {
  const blocks = summaryTables(results).map((figures) =>
    [bold(figures.title), table(figures.header, figures.rows), ...figures.notes.map((note) => dim(`  ${note}`))].join(
      '\n',
    ),
  );
  const failures = results.failures.map((failure) => red(`FAILED ${failure}`));
  return [...blocks, ...failures].join('\n\n');
}

/** The same tables and every run's figures as markdown a README can quote. */
export function markdownReport(results: BenchResults): string {
  const section = (figures: Table, level: string) =>
    [
      `${level} ${figures.title}`,
      '',
      markdownTable(figures),
      ...(figures.notes.length ? ['', ...figures.notes.map((note) => `- ${note}`)] : []),
    ].join('\n');
  const raw = rawTables(results);
  return [
    `# Benchmark, ${results.startedAt}`,
    '',
    `Machine: ${machineLine(results.machine)}.`,
    '',
    '```bash',
    results.command,
    '```',
    ...(results.failures.length ? ['', '**Failures:**', '', ...results.failures.map((failure) => `- ${failure}`)] : []),
    '',
    ...summaryTables(results).flatMap((figures) => [section(figures, '##'), '']),
    ...(raw.length ? ['## Every run', '', ...raw.flatMap((figures) => [section(figures, '###'), ''])] : []),
  ].join('\n');
}

function markdownTable(figures: Table): string {
  const numeric = (column: number) => figures.rows.every((row) => /^-?[\d.,–]*$/.test(row[column] ?? ''));
  const escapeCell = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${figures.header.map(escapeCell).join(' | ')} |`,
    `|${figures.header.map((_, column) => (numeric(column) ? '---:' : '---')).join('|')}|`,
    ...figures.rows.map((row) => `| ${row.map(escapeCell).join(' | ')} |`),
  ].join('\n');
}

/** `bench/results/<UTC timestamp>.json` and `.md`, and copies as `latest.json` and `latest.md`. */
export async function writeResults(results: BenchResults): Promise<string[]> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const stamp = results.startedAt.replace(/\.\d+Z$/, 'Z').replace(/:/g, '-');
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const markdown = markdownReport(results);
  const written: string[] = [];
  for (const name of [stamp, 'latest']) {
    for (const [extension, text] of [
      ['json', json],
      ['md', markdown],
    ] as const) {
      const path = join(RESULTS_DIR, `${name}.${extension}`);
      await writeFile(path, text);
      written.push(path);
    }
  }
  return written;
}
