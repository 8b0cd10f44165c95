import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { withDownloaded } from '../../local/lakehouse-contents';
import type { LocalLakehouse } from '../../local/local-lakehouse';
import type { Config } from '../../src/config';
import { sqlString, withConnection } from '../../src/io/duckdb';
import { listKeys } from '../../src/io/s3-io';
import { type TripRow, trip, tripsCsv } from './trips';

type DuckCfg = Pick<Config, 'workDir' | 'duckdb'>;

/**
 * The rows of every Parquet object under `prefix`, read together, in a
 * stable order: `_ingested_at` (when, not what) is left out, so two builds compare.
 */
export async function rowsUnder(client: S3Client, cfg: DuckCfg, bucket: string, prefix: string): Promise<unknown[]> {
  const keys = (await listKeys(client, bucket, prefix)).filter((key) => key.endsWith('.parquet'));
  if (keys.length === 0) return [];
  return withDownloaded(client, cfg, bucket, keys, (paths) =>
    withConnection(cfg, async (connection) => {
      const files = `read_parquet([${paths.map(sqlString).join(', ')}], union_by_name = true)`;
      const columns = (await connection.runAndReadAll(`describe select * from ${files}`))
        .getRowObjectsJS()
        .map((row) => String(row.column_name));
      const exclude = columns.includes('_ingested_at') ? 'exclude (_ingested_at)' : '';
      return (await connection.runAndReadAll(`select * ${exclude} from ${files} order by all`)).getRowObjectsJson();
    }),
  );
}

/** Every object of a bucket with its ETag and time: equal before and after means nothing was written. */
export async function objectStamps(client: S3Client, bucket: string): Promise<string[]> {
  const stamps: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      stamps.push(`${object.Key} ${object.ETag} ${object.LastModified?.toISOString()}`);
    }
    token = page.NextContinuationToken;
  } while (token);
  return stamps.sort();
}

/**
 * A trip whose values depend only on its id: files that share trips agree on
 * them, so gold does not depend on the order files are applied in.
 */
export function tripNumber(n: number, overrides: Partial<TripRow> = {}): TripRow {
  return trip({
    trip_id: `t${n}`,
    pickup_at: `2026-01-${15 + (n % 3)} ${String(8 + (n % 10)).padStart(2, '0')}:30:00`,
    distance_km: (n % 7) + 0.5,
    fare: (n % 40) + 2.25,
    passengers: n % 5,
    pickup_zone: `Zone ${n % 4}`,
    ...overrides,
  });
}

/** Trips `from` to `to - 1` as a CSV file. */
export const tripsFile = (from: number, to: number, overrides: (n: number) => Partial<TripRow> = () => ({})) =>
  tripsCsv(Array.from({ length: to - from }, (_, i) => tripNumber(from + i, overrides(from + i))));

/** Uploads to raw and waits for the lakehouse's outcome of it. */
export async function uploadAndWait(lakehouse: LocalLakehouse, client: S3Client, key: string, body: string) {
  const processed = lakehouse.whenProcessed(key);
  await client.send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: body }));
  return processed;
}

/**
 * Dates a raw object, as S3 dates an upload: to the second. The local S3
 * server (its objects under `s3Directory`) reports a file's mtime as LastModified.
 */
export async function dateRawObject(s3Directory: string, key: string, seconds: number): Promise<void> {
  await utimes(join(s3Directory, 'raw', ...`${key}._S3rver_object`.split('/')), seconds, seconds);
}
