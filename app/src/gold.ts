import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { goldKeyIndexKey, goldPartitionKey, goldStatePartitionKey, NULL_PARTITION } from '@lakehouse/contract';
import type { Config } from './config';
import type { Dataset } from './datasets';
import { sqlIdentifier, sqlString, withConnection } from './duckdb';
import { ROW_COLUMN } from './read-raw';
import { deleteObject, downloadIfExists, uploadFile } from './s3-io';

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

      for (const value of touched) {
        await rebuildPartition(connection, dataset, value, dir, deps);
      }

      await connection.run(
        `copy (select ${k}, ${PART} from key_index anti join incoming using (${k})
               union all select cast(${k} as varchar), ${PART} from incoming order by 1)
         to ${sqlString(indexPath)} ${PARQUET}`,
      );
      await uploadFile(s3, cfg.goldBucket, indexKey, indexPath, 'application/vnd.apache.parquet');
      const keys = Number(
        (await connection.runAndReadAll('select count(*)::bigint as n from incoming')).getRowObjectsJS()[0]?.n,
      );
      await connection.run(
        'drop table if exists incoming; drop table if exists key_index; drop view if exists current_rows',
      );
      return { partitions: touched, keys };
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Replaces the partition's state and every gold table's partition with the new rows. */
async function rebuildPartition(
  connection: DuckDBConnection,
  dataset: Dataset,
  value: string,
  dir: string,
  { s3, cfg }: GoldDeps,
): Promise<void> {
  const { column } = dataset.partition as NonNullable<Dataset['partition']>;
  const k = sqlIdentifier(dataset.key as string);
  const stateKey = goldStatePartitionKey(dataset.name, column, value);
  const statePath = join(dir, 'state.parquet');
  const hadState = await downloadIfExists(s3, cfg.goldBucket, stateKey, statePath);

  const incoming = `select * from incoming where ${PART} = ${sqlString(value)}`;
  const kept = hadState ? `select * from read_parquet(${sqlString(statePath)}) anti join incoming using (${k})` : null;
  await connection.run(
    `create or replace temp table next_state as ${kept ? `${kept} union all by name ` : ''}${incoming}`,
  );
  // What gold SQL reads: the partition's rows with the partition column typed.
  await connection.run(
    `create or replace temp view current_rows as
     select * exclude (${PART}), (${dataset.partition?.expression}) as ${sqlIdentifier(column)} from next_state`,
  );
  const rows = Number(
    (await connection.runAndReadAll('select count(*)::bigint as n from next_state')).getRowObjectsJS()[0]?.n,
  );

  for (const table of dataset.goldTables) {
    const goldKey = goldPartitionKey(dataset.name, table.name, column, value);
    if (rows === 0) {
      await deleteObject(s3, cfg.goldBucket, goldKey);
      continue;
    }
    const path = join(dir, `${table.name}.parquet`);
    await connection.run(`copy (${table.sql}) to ${sqlString(path)} ${PARQUET}`);
    await uploadFile(s3, cfg.goldBucket, goldKey, path, 'application/vnd.apache.parquet');
  }
  if (rows === 0) {
    await deleteObject(s3, cfg.goldBucket, stateKey);
  } else {
    await connection.run(`copy (select * from next_state order by ${k}) to ${sqlString(statePath)} ${PARQUET}`);
    await uploadFile(s3, cfg.goldBucket, stateKey, statePath, 'application/vnd.apache.parquet');
  }
  await connection.run('drop view if exists current_rows; drop table if exists next_state');
}

async function strings(connection: DuckDBConnection, sql: string): Promise<string[]> {
  const reader = await connection.runAndReadAll(sql);
  return reader.getRowObjectsJS().map((row) => String(Object.values(row)[0]));
}
