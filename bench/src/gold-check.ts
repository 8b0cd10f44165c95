import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import { sqlString } from '@lakehouse/app/src/io/duckdb';
import { downloadToFile } from '@lakehouse/app/src/io/s3-io';
import { BUCKETS, GOLD_TRIPS_PREFIX, listKeys } from './s3-objects';
import { scratchDir } from './scratch';

export interface GoldCount {
  partitions: number;
  trips: number;
}

/** Trips counted over every gold partition of daily_zone_revenue, read back over S3 like any client would. */
export async function countGoldTrips(client: S3Client): Promise<GoldCount> {
  const keys = (await listKeys(client, BUCKETS.gold, GOLD_TRIPS_PREFIX)).filter((key) => key.endsWith('.parquet'));
  if (keys.length === 0) return { partitions: 0, trips: 0 };
  const dir = await scratchDir('gold');
  try {
    const paths = keys.map((_, index) => join(dir, `${index}.parquet`));
    for (const [index, key] of keys.entries())
      await downloadToFile(client, { bucket: BUCKETS.gold, key }, paths[index] as string);
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    try {
      const connection = await instance.connect();
      const files = paths.map(sqlString).join(', ');
      const reader = await connection.runAndReadAll(
        `select coalesce(sum(trips), 0)::bigint as trips from read_parquet([${files}])`,
      );
      connection.closeSync();
      return { partitions: keys.length, trips: Number(reader.getRowObjectsJS()[0]?.trips ?? 0) };
    } finally {
      instance.closeSync();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
