import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '@lakehouse/app/src/io/duckdb';
import { downloadToFile } from '@lakehouse/app/src/io/s3-io';
import { BUCKETS, GOLD_TRIPS_PREFIX, listKeys } from './s3-objects';
import { scratchDir } from './scratch';

/**
 * One file's outputs as a reader sees them, in one line: silver and rejects
 * as an order-free sum of row hashes (every column but `_ingested_at`, so
 * `_source_row`, `_source_line` and the lineage count), gold as its exact
 * totals (its float sums may differ in the last bit with the order rows are
 * added in). Two runs that wrote the same rows give the same digest.
 */
export async function outputDigest(client: S3Client, keys: { silverKey: string; rejectsKey?: string }) {
  const goldKeys = (await listKeys(client, BUCKETS.gold, GOLD_TRIPS_PREFIX)).filter((key) => key.endsWith('.parquet'));
  const dir = await scratchDir('digest');
  const instance = await DuckDBInstance.create(':memory:', { threads: '2' });
  try {
    const connection = await instance.connect();
    const local = async (bucket: string, key: string, name: string) => {
      const path = join(dir, name);
      await downloadToFile(client, { bucket, key }, path);
      return sqlString(path);
    };
    const rows = async (file: string) => {
      const reader = await connection.runAndReadAll(
        `select count(*) as n, coalesce(sum(hash(t)::hugeint), 0) as h
         from (select * exclude (_ingested_at) from read_parquet(${file})) as t`,
      );
      const { n, h } = reader.getRowObjectsJS()[0] as { n: bigint; h: bigint };
      return `${n}:${h}`;
    };
    const silver = await rows(await local(BUCKETS.silver, keys.silverKey, 'silver.parquet'));
    const rejects = keys.rejectsKey ? await rows(await local(BUCKETS.silver, keys.rejectsKey, 'rejects.parquet')) : '-';
    const goldFiles: string[] = [];
    for (const [index, key] of goldKeys.entries())
      goldFiles.push(await local(BUCKETS.gold, key, `gold-${index}.parquet`));
    let gold = '-';
    if (goldFiles.length > 0) {
      const reader = await connection.runAndReadAll(
        `select count(*) as n, sum(trips) as trips, sum(passengers) as passengers, sum(fare_total) as fare
         from read_parquet([${goldFiles.join(', ')}])`,
      );
      const { n, trips, passengers, fare } = reader.getRowObjectsJS()[0] as Record<string, unknown>;
      gold = `${n}:${trips}:${passengers}:${fare}`;
    }
    connection.closeSync();
    return `silver ${silver} rejects ${rejects} gold ${gold}`;
  } finally {
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
}
