import type { DuckDBConnection } from '@duckdb/node-api';
import { table } from './terminal';

/** How `pnpm query` prints rows: aligned columns, CSV with a header, or one JSON array of row objects. */
export const RESULT_FORMATS = ['table', 'csv', 'json'] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

export interface QueryResult {
  columns: string[];
  /** Each value as JSON: numbers (integers too, when exact), text, arrays and objects; decimals as exact text. */
  rows: unknown[][];
}

const INTEGER_TYPES = new Set(['BIGINT', 'HUGEINT', 'UBIGINT', 'UHUGEINT']);

export async function runQuery(connection: DuckDBConnection, sql: string): Promise<QueryResult> {
  const reader = await connection.runAndReadAll(sql);
  const integers = reader.columnTypes().map((type) => INTEGER_TYPES.has(type.toString()));
  // DuckDB gives 64-bit integers as text in JSON; a number reads better where it is exact.
  const rows = reader
    .getRowsJson()
    .map((row) =>
      row.map((value, index) =>
        integers[index] && typeof value === 'string' && Number.isSafeInteger(Number(value)) ? Number(value) : value,
      ),
    );
  return { columns: reader.columnNames(), rows };
}

export function formatResult({ columns, rows }: QueryResult, format: ResultFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((column, i) => [column, row[i]]))));
    case 'csv':
      return [columns, ...rows.map((row) => row.map((value) => (value === null ? '' : text(value))))]
        .map((cells) => cells.map(csvCell).join(','))
        .join('\n');
    case 'table': {
      const cells = rows.map((row) => row.map((value) => (value === null ? 'NULL' : text(value))));
      return `${table(columns, cells)}\n(${rows.length} row${rows.length === 1 ? '' : 's'})`;
    }
  }
}

const text = (value: unknown) => (typeof value === 'object' ? JSON.stringify(value) : String(value));
const csvCell = (cell: string) => (/[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
