import type { DuckDBConnection } from '@duckdb/node-api';
import type { Dataset } from '../datasets';
import { messageOf, PoisonFileError } from '../errors';
import { sqlIdentifier, sqlString } from '../io/duckdb';
import { RAW_TABLE, ROW_COLUMN } from './read-raw';

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

const PARQUET = '(format parquet, compression zstd, row_group_size 122880)';

function lineageColumns(lineage: Lineage): string {
  return [
    `${sqlString(lineage.sourceKey)} as _source_key`,
    `${sqlString(lineage.sourceEtag)} as _source_etag`,
    `${lineage.sourceVersionId ? sqlString(lineage.sourceVersionId) : 'null::varchar'} as _source_version_id`,
    `${sqlString(lineage.ingestedAt.toISOString())}::timestamptz as _ingested_at`,
  ].join(', ');
}

async function count(connection: DuckDBConnection, sql: string): Promise<number> {
  const reader = await connection.runAndReadAll(`select count(*)::bigint as n from (${sql})`);
  return Number(reader.getRowObjectsJS()[0]?.n ?? 0);
}

/** Writes the rows of `select` to a Parquet file; DuckDB's COPY answers how many it wrote. */
async function copyToParquet(connection: DuckDBConnection, select: string, path: string): Promise<number> {
  const reader = await connection.runAndReadAll(`copy (${select}) to ${sqlString(path)} ${PARQUET}`);
  return Number(reader.getRowObjectsJS()[0]?.Count ?? 0);
}

/** No dataset folder: the file's own columns and types, plus lineage. */
export async function writeGenericSilver(
  connection: DuckDBConnection,
  lineage: Lineage,
  silverPath: string,
): Promise<TransformResult> {
  const silverRows = await copyToParquet(
    connection,
    `select *, ${lineageColumns(lineage)} from ${RAW_TABLE} order by ${ROW_COLUMN}`,
    silverPath,
  );
  return { silverRows, rejectedRows: 0 };
}

/**
 * A dataset: its silver SQL casts and cleans, its rules split the rows. Rows
 * that pass go to silver; the others go to rejects with the names of the rules
 * they broke and their values as written.
 */
export async function writeDatasetSilver(
  connection: DuckDBConnection,
  dataset: Dataset,
  rawColumns: readonly string[],
  lineage: Lineage,
  paths: { silver: string; rejects: string },
): Promise<TransformResult> {
  const missing = dataset.requiredColumns.filter((column) => !rawColumns.includes(column));
  if (missing.length > 0) {
    throw new PoisonFileError(
      'schema',
      `dataset ${dataset.name} needs columns ${missing.join(', ')}; the file has ${rawColumns.join(', ')}`,
    );
  }
  try {
    await connection.run(`create or replace temp table staged as ${dataset.silverSql}`);
  } catch (error) {
    throw new PoisonFileError('schema', `dataset ${dataset.name} silver SQL failed on this file: ${messageOf(error)}`, {
      cause: error,
    });
  }
  const failed = dataset.rules.length
    ? `list_filter([${dataset.rules
        .map((rule) => `case when coalesce((${rule.check}), false) then null else ${sqlString(rule.name)} end`)
        .join(', ')}], name -> name is not null)`
    : '[]::varchar[]';
  await connection.run(`create or replace temp table checked as select *, ${failed} as _failed_rules from staged`);

  const silverRows = await copyToParquet(
    connection,
    `select * exclude (_failed_rules), ${lineageColumns(lineage)}
     from checked where len(_failed_rules) = 0 order by ${ROW_COLUMN}`,
    paths.silver,
  );
  const rejectedRows = await count(connection, 'select 1 from checked where len(_failed_rules) > 0');
  if (rejectedRows > 0) {
    const originals = rawColumns.map((column) => `raw.${sqlIdentifier(column)}`).join(', ');
    await copyToParquet(
      connection,
      `select checked._failed_rules[1] as _rule, checked._failed_rules, raw.${ROW_COLUMN}, ${originals},
              ${lineageColumns(lineage)}
       from checked join ${RAW_TABLE} as raw using (${ROW_COLUMN})
       where len(checked._failed_rules) > 0 order by raw.${ROW_COLUMN}`,
      paths.rejects,
    );
  }
  await connection.run('drop table if exists staged; drop table if exists checked');
  return { silverRows, rejectedRows };
}
