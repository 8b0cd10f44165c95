import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { goldKeyIndexKey, goldPartitionKey, goldStatePartitionKey, NULL_PARTITION } from '@lakehouse/contract';
import type { Config } from '../config';
import type { Dataset } from '../datasets';
import { ROW_COLUMN } from '../ingest/read-raw';
import { sqlIdentifier, sqlString, withConnection } from '../io/duckdb';
import { deleteObject, downloadIfExists, uploadFile } from '../io/s3-io';

/** One silver file to fold into its dataset's gold tables. */
export interface GoldJob {
  dataset: string;
  silverKey: string;
}

export interface GoldResult {
  partitions: string[];
  keys: number;
}

const PARQUET = '(format parquet, compression zstd)';
const PART = '_partition';
const PARQUET_TYPE = 'application/vnd.apache.parquet';
/** Partitions downloaded or uploaded at once. */
const PARALLEL_TRANSFERS = 8;

interface GoldDeps {
  s3: S3Client;
  cfg: Pick<Config, 'silverBucket' | 'goldBucket' | 'workDir' | 'duckdb'>;
}

/**
 * Folds one silver file into gold, rebuilding only the partitions it touches:
 * the partitions of its rows and those its keys held before. Each key counts
 * once; a key seen again takes the values of the file applied last. Callers
 * serialise jobs per dataset (SQS FIFO group on AWS, a lock locally), and a
 * job applied twice gives the same gold: the key index is written last, so a
 * job cut short is redone whole by its retry.
 */
export async function applyToGold(job: GoldJob, dataset: Dataset, deps: GoldDeps): Promise<GoldResult> {
  const { key, partition } = dataset;
  if (!key || !partition) throw new Error(`dataset ${dataset.name} has no key or partition for gold`);
  const { s3, cfg } = deps;
  const dir = await mkdtemp(join(cfg.workDir, 'gold-'));
  try {
    const silverPath = join(dir, 'silver.parquet');
    if (!(await downloadIfExists(s3, cfg.silverBucket, job.silverKey, silverPath))) {
      return { partitions: [], keys: 0 };
    }
    const indexKey = goldKeyIndexKey(dataset.name);
    const indexPath = join(dir, 'index.parquet');
    const hasIndex = await downloadIfExists(s3, cfg.goldBucket, indexKey, indexPath);

    return await withConnection(cfg, async (connection) => {
      const k = sqlIdentifier(key);
      const partitionValue = `coalesce(cast((${partition.expression}) as varchar), ${sqlString(NULL_PARTITION)})`;
      // Within one file the last row of a key wins.
      await connection.run(
        `create or replace temp table incoming as
         select * exclude (_rank) from (
           select *, ${partitionValue} as ${PART},
                  row_number() over (partition by ${k} order by ${ROW_COLUMN} desc) as _rank
           from read_parquet(${sqlString(silverPath)}) where ${k} is not null)
         where _rank = 1`,
      );
      await connection.run(
        hasIndex
          ? `create or replace temp table key_index as select * from read_parquet(${sqlString(indexPath)})`
          : `create or replace temp table key_index (${k} varchar, ${PART} varchar)`,
      );
      const touched = await strings(
        connection,
        `select distinct ${PART} as v from incoming
         union select distinct key_index.${PART} from key_index join incoming using (${k}) order by 1`,
      );

      await mergeTouchedPartitions(connection, dataset, touched, dir, deps);
      for (const batch of chunks(touched, PARALLEL_TRANSFERS)) {
        await writePartitions(connection, dataset, batch, dir, deps);
      }

      await connection.run(
        `copy (select ${k}, ${PART} from key_index anti join incoming using (${k})
               union all select cast(${k} as varchar), ${PART} from incoming)
         to ${sqlString(indexPath)} ${PARQUET}`,
      );
      await uploadFile(s3, cfg.goldBucket, indexKey, indexPath, PARQUET_TYPE);
      const keys = Number(
        (await connection.runAndReadAll('select count(*)::bigint as n from incoming')).getRowObjectsJS()[0]?.n,
      );
      await connection.run(
        'drop table if exists incoming; drop table if exists key_index; drop table if exists next_state',
      );
      return { partitions: touched, keys };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * `next_state`: the latest row of every key in the touched partitions. The
 * partitions' current state (downloaded in parallel) minus the file's keys,
 * plus the file's rows: one pass, whatever the number of partitions.
 */
async function mergeTouchedPartitions(
  connection: DuckDBConnection,
  dataset: Dataset,
  touched: readonly string[],
  dir: string,
  { s3, cfg }: GoldDeps,
): Promise<void> {
  const { column } = dataset.partition as NonNullable<Dataset['partition']>;
  const paths: string[] = [];
  for (const batch of chunks(touched, PARALLEL_TRANSFERS)) {
    const found = await Promise.all(
      batch.map(async (value) => {
        const path = statePathOf(dir, value);
        const key = goldStatePartitionKey(dataset.name, column, value);
        return (await downloadIfExists(s3, cfg.goldBucket, key, path)) ? path : undefined;
      }),
    );
    paths.push(...found.filter((path): path is string => path !== undefined));
  }
  const k = sqlIdentifier(dataset.key as string);
  const kept = paths.length
    ? `select * from read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = true)
       anti join incoming using (${k}) union all by name `
    : '';
  await connection.run(`create or replace temp table next_state as ${kept}select * from incoming`);
}

/** Writes each partition's state and gold tables (or deletes them when no row is left), then uploads them in parallel. */
async function writePartitions(
  connection: DuckDBConnection,
  dataset: Dataset,
  values: readonly string[],
  dir: string,
  { s3, cfg }: GoldDeps,
): Promise<void> {
  const { column, expression } = dataset.partition as NonNullable<Dataset['partition']>;
  const transfers: Array<() => Promise<void>> = [];
  for (const [i, value] of values.entries()) {
    const where = `${PART} = ${sqlString(value)}`;
    const rows = Number(
      (
        await connection.runAndReadAll(`select count(*)::bigint as n from next_state where ${where}`)
      ).getRowObjectsJS()[0]?.n,
    );
    const outputs = [
      ...dataset.goldTables.map((table) => ({
        key: goldPartitionKey(dataset.name, table.name, column, value),
        path: join(dir, `${i}-${table.name}.parquet`),
        sql: table.sql,
      })),
      {
        key: goldStatePartitionKey(dataset.name, column, value),
        path: statePathOf(dir, value),
        sql: `select * from next_state where ${where}`,
      },
    ];
    if (rows === 0) {
      for (const output of outputs) transfers.push(() => deleteObject(s3, cfg.goldBucket, output.key));
      continue;
    }
    // What gold SQL reads: the partition's rows with the partition column typed.
    await connection.run(
      `create or replace temp view current_rows as
       select * exclude (${PART}), (${expression}) as ${sqlIdentifier(column)} from next_state where ${where}`,
    );
    for (const output of outputs) {
      await connection.run(`copy (${output.sql}) to ${sqlString(output.path)} ${PARQUET}`);
      transfers.push(async () => void (await uploadFile(s3, cfg.goldBucket, output.key, output.path, PARQUET_TYPE)));
    }
  }
  await connection.run('drop view if exists current_rows');
  await Promise.all(transfers.map((transfer) => transfer()));
}

function statePathOf(dir: string, value: string): string {
  return join(dir, `state-${Buffer.from(value).toString('hex')}.parquet`);
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

async function strings(connection: DuckDBConnection, sql: string): Promise<string[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => String(Object.values(row)[0]));
}
