import type { DuckDBConnection } from '@duckdb/node-api';
import { messageOf, PoisonFileError } from '../errors';
import { sqlIdentifier, sqlString } from '../io/duckdb';
import { normaliseColumnNames } from './column-names';
import type { Compression, DetectedFormat } from './formats';

/** What a dataset's silver SQL selects from: the file's columns as written, and `_source`. */
export const RAW_INPUT = 'raw_input';
/**
 * An opaque handle on the raw row (its values as written) that silver SQL
 * passes through unchanged; the pipeline turns it into `_source_row` in
 * silver and into the original values in rejects.
 */
export const SOURCE_COLUMN = '_source';
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

export interface RawFile {
  /** The file's columns, snake_case, in file order. */
  columns: string[];
}

/**
 * Opens a local file as the view `raw_named`: its columns renamed to
 * snake_case, every value as written (text) with `allVarchar`, DuckDB's types
 * otherwise. Nothing is read beyond what the sniffer needs; a file DuckDB
 * cannot even describe is a poison file.
 */
export async function openRawFile(
  connection: DuckDBConnection,
  path: string,
  detected: DetectedFormat,
  { allVarchar }: { allVarchar: boolean },
): Promise<RawFile> {
  try {
    await connection.run(`create or replace temp view raw_file as select * from ${reader(path, detected, allVarchar)}`);
    const described = await connection.runAndReadAll('describe raw_file');
    const sourceColumns = described.getRowObjectsJS().map((row) => String(row.column_name));
    const columns = normaliseColumnNames(sourceColumns);
    const select = sourceColumns.map((source, i) => {
      const value = allVarchar ? `cast(${sqlIdentifier(source)} as varchar)` : sqlIdentifier(source);
      return `${value} as ${sqlIdentifier(columns[i] as string)}`;
    });
    await connection.run(`create or replace temp view raw_named as select ${select.join(', ')} from raw_file`);
    return { columns };
  } catch (error) {
    throw new PoisonFileError('unreadable', `cannot read as ${detected.format}: ${messageOf(error)}`, { cause: error });
  }
}

/** `raw_input` for a dataset's silver SQL: the named columns plus `_source`, a struct of them all. */
export async function createRawInputView(connection: DuckDBConnection, { columns }: RawFile): Promise<void> {
  const source = columns.map((column) => `${sqlString(column)}: ${sqlIdentifier(column)}`).join(', ');
  await connection.run(
    `create or replace temp view ${RAW_INPUT} as select {${source}} as ${SOURCE_COLUMN}, * from raw_named`,
  );
}

/**
 * When a streaming pass over the file fails, tells a file DuckDB cannot read
 * (unreadable) from one it reads but the transform cannot handle: reads the
 * file alone once more. Only on the failure path.
 */
export async function fileReadsCleanly(connection: DuckDBConnection): Promise<boolean> {
  try {
    await connection.run('select count(*) from raw_named');
    return true;
  } catch {
    return false;
  }
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
