import type { DuckDBConnection } from '@duckdb/node-api';
import { messageOf, PoisonFileError } from '../errors';
import { sqlIdentifier, sqlString } from '../io/duckdb';
import { normaliseColumnNames } from './column-names';
import type { Compression, DetectedFormat } from './formats';

export const RAW_TABLE = 'raw_input';
/** Row number in the file (1-based), kept through silver and rejects for tracing. */
export const ROW_COLUMN = '_source_row';

function reader(path: string, { format, compression }: DetectedFormat, allVarchar: boolean): string {
  const file = sqlString(path);
  switch (format) {
    case 'parquet':
      return `read_parquet(${file})`;
    case 'json':
      // format auto: a JSON array or newline-delimited records.
      return `read_json(${file}, format = 'auto', compression = ${sqlString(compression === 'none' ? 'uncompressed' : compression)}, sample_size = -1)`;
    case 'csv':
      // The sniffer finds delimiter (comma, tab, semicolon, pipe), quote and header.
      return `read_csv(${file}, compression = ${sqlString(compression)}, sample_size = 20480, all_varchar = ${allVarchar})`;
  }
}

/**
 * Loads a local file into the connection's temp table `raw_input`, columns
 * renamed to snake_case, plus `_source_row`. With `allVarchar` every value stays as
 * written (datasets cast in their silver SQL and keep originals for rejects).
 * A file DuckDB cannot read is a poison file.
 */
export async function loadRawInput(
  connection: DuckDBConnection,
  path: string,
  detected: DetectedFormat,
  options: { allVarchar: boolean },
): Promise<{ columns: string[]; rows: number }> {
  try {
    return await createRawTable(connection, path, detected, options.allVarchar);
  } catch (error) {
    // CSV types are sniffed from a sample: a later value that does not fit
    // them is no reason to reject the file. Read it again as text.
    if (options.allVarchar || detected.format !== 'csv') {
      throw new PoisonFileError('unreadable', `cannot read as ${detected.format}: ${messageOf(error)}`, {
        cause: error,
      });
    }
    try {
      return await createRawTable(connection, path, detected, true);
    } catch (retryError) {
      throw new PoisonFileError('unreadable', `cannot read as csv: ${messageOf(retryError)}`, { cause: retryError });
    }
  } finally {
    await connection.run('drop view if exists raw_file');
  }
}

async function createRawTable(
  connection: DuckDBConnection,
  path: string,
  detected: DetectedFormat,
  allVarchar: boolean,
): Promise<{ columns: string[]; rows: number }> {
  await connection.run(`create or replace temp view raw_file as select * from ${reader(path, detected, allVarchar)}`);
  const described = await connection.runAndReadAll('describe raw_file');
  const sourceColumns = described.getRowObjectsJS().map((row) => String(row.column_name));
  const columns = normaliseColumnNames(sourceColumns);
  const select = sourceColumns.map((source, i) => {
    const value = allVarchar ? `cast(${sqlIdentifier(source)} as varchar)` : sqlIdentifier(source);
    return `${value} as ${sqlIdentifier(columns[i] as string)}`;
  });
  await connection.run(
    `create or replace temp table ${RAW_TABLE} as
     select row_number() over () as ${ROW_COLUMN}, ${select.join(', ')} from raw_file`,
  );
  const counted = await connection.runAndReadAll(`select count(*)::bigint as n from ${RAW_TABLE}`);
  return { columns, rows: Number(counted.getRowObjectsJS()[0]?.n ?? 0) };
}

/** The first line(s) of a compressed text file, decompressed by DuckDB. */
export async function peekCompressedText(
  connection: DuckDBConnection,
  path: string,
  compression: Compression,
): Promise<string> {
  try {
    const reader = await connection.runAndReadAll(
      `select line from read_csv(${sqlString(path)}, compression = ${sqlString(compression)}, header = false,
         columns = {'line': 'VARCHAR'}, delim = '\x1f', quote = '', escape = '', auto_detect = false) limit 1`,
    );
    return String(reader.getRowObjectsJS()[0]?.line ?? '');
  } catch (error) {
    throw new PoisonFileError('unreadable', `cannot decompress (${compression}): ${messageOf(error)}`, {
      cause: error,
    });
  }
}
