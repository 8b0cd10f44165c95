import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { NULL_PARTITION } from '@lakehouse/contract';
import type { Dataset, GoldTable } from '../datasets';
import { copyRows, sqlIdentifier, sqlString } from '../io/duckdb';

const PARQUET = 'format parquet, compression zstd';
const PARTITION_INDEX = '_partition_index';

/** The partition of a silver row, as text (the value in its gold key). */
export function partitionText(expression: string): string {
  return `coalesce(cast((${expression}) as varchar), ${sqlString(NULL_PARTITION)})`;
}

/** Rows of a local Parquet file per partition, the partition being `partitionSql` over its columns. */
export async function rowsByPartition(
  connection: DuckDBConnection,
  rows: { path: string } | { sql: string },
  partitionSql: string,
): Promise<Record<string, number>> {
  const from = 'path' in rows ? `read_parquet(${sqlString(rows.path)})` : `(${rows.sql})`;
  const reader = await connection.runAndReadAll(
    `select ${partitionSql} as p, count(*)::bigint as n from ${from} group by 1`,
  );
  return Object.fromEntries(reader.getRowObjectsJS().map((row) => [String(row.p), Number(row.n)]));
}

/** One gold table's output for the rebuilt partitions: a local file per partition that has rows. */
export interface TableOutput {
  table: GoldTable;
  /** Partition value -> local Parquet file; a rebuilt partition missing here has no rows any more. */
  files: Map<string, string>;
}

/**
 * Runs every gold SQL of the dataset once over `current_rows` (the live rows
 * of all partitions being rebuilt) and splits each result by its partition
 * column. Gold SQL must be partition-local: every row it outputs belongs to a
 * partition being rebuilt, computed from that partition's rows.
 */
export async function writeGoldTables(
  connection: DuckDBConnection,
  dataset: Dataset,
  partitions: readonly string[],
  dir: string,
): Promise<TableOutput[]> {
  const { column } = dataset.partition as NonNullable<Dataset['partition']>;
  const list = `[${partitions.map(sqlString).join(', ')}]`;
  const outputs: TableOutput[] = [];
  for (const table of dataset.goldTables) {
    const out = join(dir, 'tables', table.name);
    await mkdir(join(dir, 'tables'), { recursive: true });
    const described = await connection.runAndReadAll(`describe (${table.sql})`);
    if (!described.getRowObjectsJS().some((row) => row.column_name === column)) {
      throw new Error(`gold table ${dataset.name}.${table.name} must output the partition column ${column}`);
    }
    const value = partitionText(sqlIdentifier(column));
    await connection.run(
      `copy (select *, list_position(${list}, ${value}) - 1 as ${PARTITION_INDEX} from (${table.sql}))
       to ${sqlString(out)} (${PARQUET}, partition_by (${PARTITION_INDEX}))`,
    );
    outputs.push({ table, files: await filesByPartition(connection, dataset, table, partitions, out) });
  }
  return outputs;
}

async function filesByPartition(
  connection: DuckDBConnection,
  dataset: Dataset,
  table: GoldTable,
  partitions: readonly string[],
  out: string,
): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const folder of await readdir(out).catch(() => [])) {
    const index = Number(folder.slice(PARTITION_INDEX.length + 1));
    const partition = partitions[index];
    if (!folder.startsWith(`${PARTITION_INDEX}=`) || !Number.isInteger(index) || partition === undefined) {
      throw new Error(
        `gold table ${dataset.name}.${table.name} output rows outside the partitions being rebuilt: ` +
          'gold SQL must compute each partition from its own rows (group by the partition column)',
      );
    }
    const parts = (await readdir(join(out, folder))).map((file) => join(out, folder, file));
    files.set(partition, await asOneFile(connection, parts, join(out, `${index}.parquet`)));
  }
  return files;
}

/** DuckDB may split a large partition into several files; a gold partition is one object. */
async function asOneFile(connection: DuckDBConnection, parts: string[], path: string): Promise<string> {
  if (parts.length === 1) return parts[0] as string;
  await copyRows(connection, `select * from read_parquet([${parts.map(sqlString).join(', ')}])`, path);
  return path;
}
