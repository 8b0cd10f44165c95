import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DuckDBConnection } from '@duckdb/node-api';
import { GOLD_STATE_PREFIX } from '@lakehouse/contract';
import type { Dataset } from '../datasets';
import { copyRows, sqlIdentifier, sqlString } from '../io/duckdb';
import { downloadToFile, inParallel, listKeys } from '../io/s3-io';
import type { GoldManifest, StateObject } from './gold-state';
import { partitionText, rowsByPartition } from './gold-tables';

/** What format 1 kept per partition: the latest row of every key, with `_partition`. */
const FORMAT_1_ROWS = (dataset: string) => `${GOLD_STATE_PREFIX}/${dataset}/rows/`;
const FORMAT_1_INDEX = (dataset: string) => `${GOLD_STATE_PREFIX}/${dataset}/key_index.parquet`;

export interface MigratedState {
  /** Local files to add to the manifest as a compacted segment and an index run. */
  segmentPath: string;
  runPath: string;
  partitions: Record<string, number>;
  rows: number;
  /** Format 1 objects, deleted once the first format 2 commit is written. */
  superseded: StateObject[];
}

/**
 * Gold state format 1 (a rows file per partition and one key index, rewritten
 * by every update) becomes one compacted segment and one index run, once,
 * inside the first update after the upgrade. Its rows get identities no
 * commit uses (negative _segment), so later files replace them like any other.
 * Undefined when the dataset has no format 1 state.
 */
export async function migrateFormat1(
  connection: DuckDBConnection,
  s3: S3Client,
  bucket: string,
  dataset: Dataset,
  dir: string,
): Promise<MigratedState | undefined> {
  const keys = (await listKeys(s3, bucket, FORMAT_1_ROWS(dataset.name))).filter((key) => key.endsWith('.parquet'));
  const indexKey = FORMAT_1_INDEX(dataset.name);
  if (keys.length === 0) return undefined;
  const paths = keys.map((_, i) => join(dir, `format1-${i}.parquet`));
  await inParallel(
    keys.map((key, i) => ({ key, path: paths[i] as string })),
    8,
    async ({ key, path }) => void (await downloadToFile(s3, { bucket, key }, path)),
  );
  const files = `read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = true)`;
  const segmentPath = join(dir, 'format1-segment.parquet');
  const runPath = join(dir, 'format1-run.parquet');
  const partitionOf = partitionText((dataset.partition as NonNullable<Dataset['partition']>).expression);
  const k = sqlIdentifier(dataset.key as string);
  await copyRows(
    connection,
    `select * exclude (_partition), -row_number() over () as _segment from ${files}`,
    segmentPath,
  );
  await copyRows(
    connection,
    `select cast(${k} as varchar) as key, ${partitionOf} as _partition, _segment, _source_row
     from read_parquet(${sqlString(segmentPath)})`,
    runPath,
  );
  const partitions = await rowsByPartition(connection, { path: segmentPath }, partitionOf);
  const superseded = [...keys, indexKey].map((key) => ({ key, eTag: '', rows: 0 }));
  return { segmentPath, runPath, partitions, rows: Object.values(partitions).reduce((a, b) => a + b, 0), superseded };
}

/** Whether the manifest has never been written: the only time format 1 state can be there. */
export const isNewState = (manifest: GoldManifest) => manifest.version === 0 && manifest.segments.length === 0;
