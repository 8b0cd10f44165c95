import type { DuckDBConnection } from '@duckdb/node-api';
import type { Dataset, Rule } from '../datasets';
import { duckdbMessage, PoisonFileError } from '../errors';
import { copyRows, sqlString } from '../io/duckdb';
import type { DetectedFormat } from './formats';
import {
  type ChunkRead,
  clearRejectedLines,
  countRejectedLines,
  createRawInputView,
  fileReadsCleanly,
  openRawFile,
  RAW_INPUT,
  ROW_COLUMN,
  rejectedLinesSelect,
  SOURCE_COLUMN,
} from './read-raw';

/**
 * raw file ─(stage: one streaming pass)─▶ staged.parquet ─┬─▶ silver.parquet  (rows that pass, + _source_row, lineage)
 *                                                         └─▶ rejects.parquet (rows that do not, values as written)
 *
 * The stage pass reads the file once, runs the dataset's SQL and rules, and
 * keeps the values as written only for the rows that fail. Row numbers come
 * from the staged file's own row positions (DuckDB cannot number CSV rows in
 * parallel), so nothing is ever materialised or sorted and memory stays flat
 * whatever the file's size.
 */

/** Where a row came from; added to every silver and rejected row. */
export interface Lineage {
  sourceKey: string;
  sourceEtag: string;
  sourceVersionId?: string;
  ingestedAt: Date;
}

export interface TransformResult {
  silverRows: number;
  rejectedRows: number;
}

export interface TransformPaths {
  staged: string;
  silver: string;
  rejects: string;
}

const PASSED = '_passed';
const FAILED_RULES = '_failed_rules';
/** A failing row's values as written: one JSON object of text values (a struct column costs a Parquet column per raw column). */
const RAW_VALUES = '_raw';
/** The raw columns, in file order: the staged file's key-value metadata, which the rejects' columns are read back by. */
const RAW_COLUMNS_KEY = 'raw_columns';
/** `_source` as the rules must not see it: they are over silver columns, at staging as at publishing. */
const SOURCE_HIDDEN = '_source_values_as_written';
/**
 * How staged rows are compressed. A file's own stage file is read once, right
 * away, on the same disk: lz4 is fastest to write. A chunk's staged part goes
 * up to S3 and down again to the commit: zstd writes about as fast and is a
 * third smaller.
 */
export type StagedCodec = 'lz4_raw' | 'zstd';
const staged = (codec: StagedCodec) => `format parquet, compression ${codec}`;
export const PARQUET = '(format parquet, compression zstd, row_group_size 122880)';
/** Operators that keep one output row per input row, in order. */
const ROW_PRESERVING = new Set(['PROJECTION', 'STREAMING_WINDOW']);
/** Leaves that do not read the file. */
const NOT_A_SCAN = new Set(['DUMMY_SCAN', 'EMPTY_RESULT']);

function lineageColumns(lineage: Lineage): string {
  return [
    `${sqlString(lineage.sourceKey)} as _source_key`,
    `${sqlString(lineage.sourceEtag)} as _source_etag`,
    `${lineage.sourceVersionId ? sqlString(lineage.sourceVersionId) : 'null::varchar'} as _source_version_id`,
    `${sqlString(lineage.ingestedAt.toISOString())}::timestamptz as _ingested_at`,
  ].join(', ');
}

/** No dataset folder: the file's own columns and types. Returns the rows staged. */
export function stageGeneric(connection: DuckDBConnection, stagedPath: string): Promise<number> {
  return copyRows(connection, 'select * from raw_named', stagedPath, `(${staged('lz4_raw')})`);
}

/** What a staging pass read. */
export interface Staged {
  stagedRows: number;
  /** CSV lines that could not be read as the header says (they go to rejects with DuckDB's error). */
  rejectedLines: number;
}

/**
 * A dataset's file (or a chunk of it, as `read` says) read as text and
 * staged: the rows staged, and the CSV lines that could not be read as the
 * header says (left in DuckDB's rejects tables).
 */
export async function stageDatasetFile(
  connection: DuckDBConnection,
  dataset: Dataset,
  input: { path: string; detected: DetectedFormat; read?: ChunkRead },
  stagedPath: string,
  codec: StagedCodec = 'lz4_raw',
): Promise<Staged> {
  const file = await openRawFile(connection, input.path, input.detected, { allVarchar: true, ...input.read });
  await createRawInputView(connection, file);
  await clearRejectedLines(connection);
  const columns = { columns: file.columns, format: input.detected.format };
  const stagedRows = await stageDataset(connection, dataset, columns, stagedPath, codec);
  return { stagedRows, rejectedLines: await countRejectedLines(connection) };
}

/**
 * A dataset: its silver SQL casts and cleans, its rules mark each row passed
 * or failed (with the names of the rules it broke and its values as written).
 * Returns the rows staged.
 */
export async function stageDataset(
  connection: DuckDBConnection,
  dataset: Dataset,
  file: { columns: readonly string[]; format: string },
  stagedPath: string,
  codec: StagedCodec = 'lz4_raw',
): Promise<number> {
  const rawColumns = file.columns;
  const missing = dataset.requiredColumns.filter((column) => !rawColumns.includes(column));
  if (missing.length > 0) {
    throw new PoisonFileError(
      'schema',
      `dataset ${dataset.name} needs columns ${missing.join(', ')}; the file has ${rawColumns.join(', ')}`,
    );
  }
  await checkSilverSql(connection, dataset);
  // CASE evaluates its branch only for the rows that take it: the values as
  // written cost nothing for rows that pass. The rules' names are found when
  // rejects are written, for the failing rows only.
  const select = `
    select * exclude (${SOURCE_HIDDEN}),
           case when not ${PASSED} then to_json(${SOURCE_HIDDEN}) end as ${RAW_VALUES}
    from (select *, ${passedExpression(dataset.rules)} as ${PASSED}
          from (select * rename (${SOURCE_COLUMN} as ${SOURCE_HIDDEN}) from (${dataset.silverSql})) as silver)`;
  const metadata = `kv_metadata {${RAW_COLUMNS_KEY}: ${sqlString(JSON.stringify(rawColumns))}}`;
  try {
    return await copyRows(connection, select, stagedPath, `(${staged(codec)}, ${metadata})`);
  } catch (error) {
    if (!(await fileReadsCleanly(connection))) {
      throw new PoisonFileError('unreadable', `cannot read as ${file.format}: ${duckdbMessage(error)}`, {
        cause: error,
      });
    }
    throw new PoisonFileError(
      'schema',
      `dataset ${dataset.name} silver SQL or rules failed on this file: ${duckdbMessage(error)}`,
      { cause: error },
    );
  }
}

const checksOf = (rules: readonly Rule[]) => rules.map((rule) => `coalesce((${rule.check}), false)`);

/** Whether a silver row passes every rule. */
function passedExpression(rules: readonly Rule[]): string {
  return rules.length ? checksOf(rules).join(' and ') : 'true';
}

/** The names of the rules a silver row breaks, in the dataset's order. */
function failedRulesExpression(rules: readonly Rule[]): string {
  if (rules.length === 0) return '[]::varchar[]';
  const checks = checksOf(rules);
  const names = rules.map((rule, i) => `case when ${checks[i]} then null else ${sqlString(rule.name)} end`);
  return `list_filter([${names.join(', ')}], name -> name is not null)`;
}

/** The raw columns a staged file's failing rows hold as JSON, from its metadata: a struct type that reads them back. */
async function rawValuesType(connection: DuckDBConnection, stagedPath: string): Promise<string> {
  const reader = await connection.runAndReadAll(
    `select decode(value) as columns from parquet_kv_metadata(${sqlString(stagedPath)})
     where decode(key) = ${sqlString(RAW_COLUMNS_KEY)}`,
  );
  const columns = JSON.parse(String(reader.getRowObjectsJS()[0]?.columns ?? '[]')) as string[];
  return sqlString(JSON.stringify(Object.fromEntries(columns.map((column) => [column, 'VARCHAR']))));
}

/**
 * Silver rows are numbered by their position, so the silver SQL must keep one
 * row per raw row, in order: its plan may only project. It must also pass
 * `_source` through. A dataset that breaks this quarantines its files with a
 * reason that says so (the files can be replayed once the SQL is fixed).
 */
async function checkSilverSql(connection: DuckDBConnection, dataset: Dataset): Promise<void> {
  const problem = (what: string, cause?: unknown) =>
    new PoisonFileError('schema', `dataset ${dataset.name} silver SQL ${what}`, { cause });
  let plan: PlanNode[];
  let columns: string[];
  try {
    const described = await connection.runAndReadAll(`describe (${dataset.silverSql})`);
    columns = described.getRowObjectsJS().map((row) => String(row.column_name));
    const explained = await connection.runAndReadAll(`explain (format json) ${dataset.silverSql}`);
    plan = JSON.parse(String(explained.getRowObjectsJS()[0]?.explain_value)) as PlanNode[];
  } catch (error) {
    throw problem(`failed on this file: ${duckdbMessage(error)}`, error);
  }
  if (!columns.includes(SOURCE_COLUMN)) {
    throw problem(`must select ${SOURCE_COLUMN} from ${RAW_INPUT} unchanged (it becomes ${ROW_COLUMN})`);
  }
  const nodes = flatten(plan);
  const leaves = nodes.filter((node) => !node.children?.length);
  const changing = nodes.filter((node) => node.children?.length && !ROW_PRESERVING.has(node.name));
  if (changing.length > 0 || leaves.length !== 1 || NOT_A_SCAN.has(leaves[0]?.name ?? '')) {
    const found = [...changing, ...leaves].map((node) => node.name).join(', ');
    throw problem(
      `must keep one row per raw row, in order (casts, trims, renames; the rules filter rows, not the SQL): its plan has ${found}`,
    );
  }
}

interface PlanNode {
  name: string;
  children?: PlanNode[];
}

function flatten(nodes: readonly PlanNode[]): PlanNode[] {
  return nodes.flatMap((node) => [node, ...flatten(node.children ?? [])]);
}

/**
 * A chunked file's staged part, in chunk order: its rows are numbered after
 * the `rowsBefore` rows of the parts before it, as one staged file would number them.
 */
export interface StagedPart {
  path: string;
  rowsBefore: number;
}

/**
 * The staged rows and each one's `_source_row`: a staged file's rows are
 * numbered by their position in it; a chunked file's parts are read in
 * order, as one file, each part's positions counted from its `rowsBefore`.
 */
function stagedRelation(staged: string | readonly StagedPart[]): { from: string; rowNumber: string } {
  if (typeof staged === 'string') {
    return { from: `read_parquet(${sqlString(staged)}, file_row_number = true)`, rowNumber: 'file_row_number + 1' };
  }
  const files = staged.map((part) => sqlString(part.path)).join(', ');
  const rowsBefore = staged.map((part) => part.rowsBefore).join(', ');
  return {
    from: `read_parquet([${files}], file_row_number = true)`,
    rowNumber: `file_row_number + 1 + [${rowsBefore}][file_index::bigint + 1]`,
  };
}

/**
 * Staged rows -> silver (and rejects when some failed a rule, or some CSV
 * lines could not be read as the header says). `_source_row` is the row's
 * position in the staged file, which holds every row read, in order (or in
 * the file's staged parts, see `StagedPart`). A dataset's rejects always have
 * the same columns (a catalog declares them): the rule's, and the line's
 * (`_source_line`, `_error`, `_raw_line`), null where they do not apply. The
 * rejected lines are read from DuckDB's rejects tables of the staging pass,
 * or from `rejectedLinesFrom` (a select of the same columns).
 */
export async function publishStaged(
  connection: DuckDBConnection,
  stagedRows: number,
  lineage: Lineage,
  paths: Omit<TransformPaths, 'staged'> & { staged: string | readonly StagedPart[] },
  {
    rules,
    rejectedLines = 0,
    rejectedLinesFrom = rejectedLinesSelect(),
  }: {
    /** The dataset's rules; undefined for a file of no dataset (its staged rows are all silver). */
    rules?: readonly Rule[];
    rejectedLines?: number;
    rejectedLinesFrom?: string;
  },
): Promise<TransformResult> {
  const { from: staged, rowNumber: position } = stagedRelation(paths.staged);
  const rowNumber = `${position} as ${ROW_COLUMN}`;
  const silverRows = await copyRows(
    connection,
    `select ${rowNumber}, * exclude (file_row_number${rules ? `, ${PASSED}, ${RAW_VALUES}` : ''}), ${lineageColumns(lineage)}
     from ${staged} ${rules ? `where ${PASSED}` : ''}`,
    paths.silver,
    PARQUET,
  );
  const ruleRejects = stagedRows - silverRows;
  if (ruleRejects + rejectedLines === 0) return { silverRows, rejectedRows: 0 };
  const firstStaged = typeof paths.staged === 'string' ? paths.staged : (paths.staged[0]?.path as string);
  const rejects = [
    rules &&
      `select ${FAILED_RULES}[1] as _rule, ${FAILED_RULES}, ${ROW_COLUMN},
              null::bigint as _source_line, null::varchar as _error, null::varchar as _raw_line,
              unnest(from_json(${RAW_VALUES}, ${await rawValuesType(connection, firstStaged)})), ${lineageColumns(lineage)}
       from (select *, ${rowNumber}, ${failedRulesExpression(rules)} as ${FAILED_RULES}
             from ${staged} where not ${PASSED})`,
    rejectedLines > 0 && `select *, ${lineageColumns(lineage)} from (${rejectedLinesFrom})`,
  ].filter((select): select is string => typeof select === 'string');
  await copyRows(
    connection,
    rejects.map((select) => `(${select})`).join(' union all by name '),
    paths.rejects,
    PARQUET,
  );
  return { silverRows, rejectedRows: ruleRejects + rejectedLines };
}
