import type { DuckDBConnection } from '@duckdb/node-api';
import { duckdbMessage, PoisonFileError } from '../errors';
import { sqlIdentifier, sqlString } from '../io/duckdb';
import { normaliseColumnNames } from './column-names';
import { CSV_MAX_LINE_BYTES, type CsvDialect, checkedDialect, firstLine, type SniffedDialect } from './csv-dialect';
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

export interface RawFile {
  /** The file's columns, snake_case, in file order. */
  columns: string[];
}

/** How a chunk of a file is read (a whole file needs neither). */
export interface ChunkRead {
  /** A CSV chunk: the dialect of the file's start. */
  dialect?: CsvDialect;
  /** A Parquet chunk: only these rows (0-based `first`), whose row groups alone are read. */
  rows?: { first: number; count: number };
}

/**
 * Opens a local file as the view `raw_named`: its columns renamed to
 * snake_case, every value as written (text) with `allVarchar`, DuckDB's types
 * otherwise. Nothing is read beyond what the sniffer needs; a file DuckDB
 * cannot even describe is a poison file. A CSV is read as its header line
 * says: rows that do not fit it go to DuckDB's rejects tables (see
 * `rejectedLinesSelect`), never reshaped.
 */
export async function openRawFile(
  connection: DuckDBConnection,
  path: string,
  detected: DetectedFormat,
  { allVarchar, dialect, rows }: { allVarchar: boolean } & ChunkRead,
): Promise<RawFile> {
  const sourceColumns =
    detected.format === 'csv'
      ? await openCsv(connection, path, detected, allVarchar, dialect)
      : await openOther(connection, path, detected, rows);
  const columns = normaliseColumnNames(sourceColumns);
  const select = sourceColumns.map((source, i) => {
    const value = allVarchar ? `cast(${sqlIdentifier(source)} as varchar)` : sqlIdentifier(source);
    return `${value} as ${sqlIdentifier(columns[i] as string)}`;
  });
  await connection.run(`create or replace temp view raw_named as select ${select.join(', ')} from raw_file`);
  return { columns };
}

async function describeRawFile(connection: DuckDBConnection, from: string): Promise<string[]> {
  await connection.run(`create or replace temp view raw_file as select * from ${from}`);
  const described = await connection.runAndReadAll('describe raw_file');
  return described.getRowObjectsJS().map((row) => String(row.column_name));
}

async function openOther(
  connection: DuckDBConnection,
  path: string,
  { format, compression }: DetectedFormat,
  rows?: { first: number; count: number },
) {
  const file = sqlString(path);
  // A filter on file_row_number prunes the row groups outside it: they are never read.
  const parquet = rows
    ? `(select * exclude (file_row_number) from read_parquet(${file}, file_row_number = true)
        where file_row_number >= ${rows.first} and file_row_number < ${rows.first + rows.count})`
    : `read_parquet(${file})`;
  // format auto: a JSON array or newline-delimited records.
  const from =
    format === 'parquet'
      ? parquet
      : `read_json(${file}, format = 'auto', compression = ${sqlString(compression === 'none' ? 'uncompressed' : compression)}, sample_size = -1)`;
  try {
    return await describeRawFile(connection, from);
  } catch (error) {
    throw new PoisonFileError('unreadable', `cannot read as ${format}: ${duckdbMessage(error, path)}`, {
      cause: error,
    });
  }
}

/**
 * A CSV's dialect: DuckDB's sniff checked against the header line. The
 * chunks of one file are read with the dialect of its start (see app/src/chunks).
 */
export async function csvDialectOf(
  connection: DuckDBConnection,
  path: string,
  { compression, head }: DetectedFormat,
): Promise<CsvDialect> {
  const { line, complete } = firstLine((head ?? Buffer.alloc(0)).toString('utf8'));
  if (!complete && Buffer.byteLength(line) >= CSV_MAX_LINE_BYTES) {
    throw new PoisonFileError(
      'unreadable',
      `the first line is longer than ${CSV_MAX_LINE_BYTES.toLocaleString('en')} bytes, the longest CSV line that can be read ` +
        `(its header is not a CSV header; a JSON array is read whatever its line length)`,
    );
  }
  return checkedDialect(line, await sniff(connection, path, compression));
}

/**
 * The dialect is `csvDialectOf` unless given; the types are sniffed with
 * that dialect, or, when the sniffer cannot read the file with it (an
 * unterminated quote), every column is text.
 */
async function openCsv(
  connection: DuckDBConnection,
  path: string,
  detected: DetectedFormat,
  allVarchar: boolean,
  given?: CsvDialect,
): Promise<string[]> {
  const { compression } = detected;
  const dialect = given ?? (await csvDialectOf(connection, path, detected));
  const file = sqlString(path);
  const options = `compression = ${sqlString(compression)}, delim = ${sqlString(dialect.delimiter)},
    quote = ${sqlString(dialect.quote)}, escape = ${sqlString(dialect.escape)}, header = ${dialect.header}, skip = 0,
    store_rejects = true`;
  try {
    const columns = await describeRawFile(
      connection,
      `read_csv(${file}, ${options}, sample_size = 20480, all_varchar = ${allVarchar})`,
    );
    if (columns.length === dialect.columns.length) {
      // Every statement over the view would sniff the file again (about 10 ms each, five or more a
      // file or chunk): with every column text, the sniffer's answer is pinned as explicit columns.
      if (allVarchar) await describeRawFile(connection, `read_csv(${file}, ${options}, ${textColumnsOf(columns)})`);
      return columns;
    }
  } catch {
    // The sniffer failed with the dialect fixed: read every column as text below.
  }
  try {
    return await describeRawFile(connection, `read_csv(${file}, ${options}, ${textColumnsOf(dialect.columns)})`);
  } catch (error) {
    throw new PoisonFileError('unreadable', `cannot read as csv: ${duckdbMessage(error, path)}`, { cause: error });
  }
}

/** read_csv's options for these columns, every one text, without a sniff. */
function textColumnsOf(columns: readonly string[]): string {
  return `auto_detect = false, columns = {${columns.map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ')}}`;
}

/** DuckDB's guess at the dialect; undefined when it cannot make one. */
async function sniff(
  connection: DuckDBConnection,
  path: string,
  compression: Compression,
): Promise<SniffedDialect | undefined> {
  try {
    const reader = await connection.runAndReadAll(
      `select Delimiter, Quote, Escape, HasHeader, SkipRows, len(Columns) as columns
       from sniff_csv(${sqlString(path)}, compression = ${sqlString(compression)}, sample_size = 20480)`,
    );
    const row = reader.getRowObjectsJS()[0];
    if (!row) return undefined;
    const option = (value: unknown) => (value === '(empty)' ? '' : String(value));
    return {
      delimiter: option(row.Delimiter),
      quote: option(row.Quote),
      escape: option(row.Escape),
      header: Boolean(row.HasHeader),
      skipRows: Number(row.SkipRows),
      columnCount: Number(row.columns),
    };
  } catch {
    return undefined;
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

/**
 * CSV lines DuckDB could not read as the header says, one row per line with
 * its error: `_rule` (`csv_` and DuckDB's error type: `csv_too_many_columns`),
 * `_error` (DuckDB's message), `_source_line` and `_raw_line` (the line as written).
 */
export function rejectedLinesSelect(): string {
  return `select 'csv_' || replace(lower(error_type), ' ', '_') as _rule,
            ['csv_' || replace(lower(error_type), ' ', '_')] as _failed_rules,
            null::bigint as ${ROW_COLUMN},
            line::bigint as _source_line,
            error_message as _error,
            trim(csv_line, chr(13) || chr(10)) as _raw_line
     from reject_errors
     qualify row_number() over (partition by line order by column_idx) = 1`;
}

/** Whether a staged pass rejected lines; `types` counts only lines whose value did not fit a sniffed type. */
export async function countRejectedLines(connection: DuckDBConnection, only?: 'types'): Promise<number> {
  if (!(await hasRejectsTable(connection))) return 0;
  const where = only === 'types' ? "where error_type = 'CAST'" : '';
  const reader = await connection.runAndReadAll(`select count(distinct line) as n from reject_errors ${where}`);
  return Number(reader.getRowObjectsJS()[0]?.n ?? 0);
}

/** Forgets the rejected lines of earlier passes. */
export async function clearRejectedLines(connection: DuckDBConnection): Promise<void> {
  if (await hasRejectsTable(connection)) await connection.run('delete from reject_errors');
}

/**
 * A file of which no row was read is poison: `unreadable` when lines were
 * rejected (quoting the first of them, from `rejectedLinesFrom` as for
 * `firstRejectedLines`), `empty` otherwise.
 */
export async function checkRowsRead(
  connection: DuckDBConnection,
  { stagedRows, rejectedLines, format }: { stagedRows: number; rejectedLines: number; format: string },
  rejectedLinesFrom?: string,
): Promise<void> {
  if (stagedRows > 0) return;
  if (rejectedLines > 0) {
    throw new PoisonFileError(
      'unreadable',
      `no line of the ${format} file could be read as its header says: ${await firstRejectedLines(connection, rejectedLinesFrom)}`,
    );
  }
  throw new PoisonFileError('empty', `the ${format} file has no rows`);
}

/**
 * The first rejected lines, as a reason can quote them: `line 3: Expected
 * Number of Columns: 2 Found: 4`. From DuckDB's rejects tables, or from
 * `rejectedLines` (a select of the same columns: a chunked file's lines).
 */
async function firstRejectedLines(
  connection: DuckDBConnection,
  rejectedLines = rejectedLinesSelect(),
  count = 3,
): Promise<string> {
  const reader = await connection.runAndReadAll(
    `select _source_line, _error from (${rejectedLines}) order by _source_line limit ${count}`,
  );
  return reader
    .getRowObjectsJS()
    .map((row) => `line ${row._source_line}: ${row._error}`)
    .join('; ');
}

async function hasRejectsTable(connection: DuckDBConnection): Promise<boolean> {
  const reader = await connection.runAndReadAll(
    "select count(*) as n from duckdb_tables() where temporary and table_name = 'reject_errors'",
  );
  return Number(reader.getRowObjectsJS()[0]?.n ?? 0) > 0;
}
