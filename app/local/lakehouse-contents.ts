import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GOLD_STATE_PREFIX, QUARANTINE_PREFIX, REJECTS_PREFIX } from '@lakehouse/contract';
import type { Config } from '../src/config';
import { sqlString, withConnection } from '../src/io/duckdb';
import { downloadToFile, listKeys } from '../src/io/s3-io';

export { listKeys };

import { BUCKETS } from './local-lakehouse';

export interface ParquetObject {
  key: string;
  rows: number;
}

export interface RejectsObject extends ParquetObject {
  /** Rows per broken rule (a row can break several). */
  rules: Record<string, number>;
}

export interface QuarantinedFile {
  key: string;
  source: string;
  reason: string;
  error: string;
}

/** What landed in silver and gold, read back over the S3 API like any client would. */
export interface LakehouseContents {
  silver: ParquetObject[];
  rejects: RejectsObject[];
  quarantined: QuarantinedFile[];
  gold: ParquetObject[];
  /** Gold's incremental state objects (not tables). */
  goldStateObjects: number;
}

type DuckCfg = Pick<Config, 'workDir' | 'duckdb'>;

/** Downloads Parquet objects to a temp folder (streamed), runs `fn` on their paths, cleans up. */
export async function withDownloaded<T>(
  client: S3Client,
  cfg: DuckCfg,
  bucket: string,
  keys: readonly string[],
  fn: (paths: string[]) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(cfg.workDir, 'contents-'));
  try {
    const paths: string[] = [];
    for (const [index, key] of keys.entries()) {
      const path = join(dir, `${index}.parquet`);
      await downloadToFile(client, { bucket, key }, path);
      paths.push(path);
    }
    return await fn(paths);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function rowCounts(client: S3Client, cfg: DuckCfg, bucket: string, keys: string[]): Promise<ParquetObject[]> {
  if (keys.length === 0) return [];
  return withDownloaded(client, cfg, bucket, keys, (paths) =>
    withConnection(cfg, async (connection) => {
      const counted: ParquetObject[] = [];
      for (const [index, path] of paths.entries()) {
        const reader = await connection.runAndReadAll(
          `select count(*)::bigint as n from read_parquet(${sqlString(path)})`,
        );
        counted.push({ key: keys[index] as string, rows: Number(reader.getRowObjectsJS()[0]?.n ?? 0) });
      }
      return counted;
    }),
  );
}

async function rejectCounts(client: S3Client, cfg: DuckCfg, keys: string[]): Promise<RejectsObject[]> {
  if (keys.length === 0) return [];
  return withDownloaded(client, cfg, BUCKETS.silver, keys, (paths) =>
    withConnection(cfg, async (connection) => {
      const counted: RejectsObject[] = [];
      for (const [index, path] of paths.entries()) {
        const file = sqlString(path);
        const total = await connection.runAndReadAll(`select count(*)::bigint as n from read_parquet(${file})`);
        const byRule = await connection.runAndReadAll(
          `select rule, count(*)::bigint as n from (select unnest(_failed_rules) as rule from read_parquet(${file}))
           group by rule order by n desc, rule`,
        );
        counted.push({
          key: keys[index] as string,
          rows: Number(total.getRowObjectsJS()[0]?.n ?? 0),
          rules: Object.fromEntries(byRule.getRowObjectsJS().map((row) => [String(row.rule), Number(row.n)])),
        });
      }
      return counted;
    }),
  );
}

async function quarantineRecords(client: S3Client, keys: string[]): Promise<QuarantinedFile[]> {
  const records: QuarantinedFile[] = [];
  for (const key of keys) {
    const response = await client.send(new GetObjectCommand({ Bucket: BUCKETS.silver, Key: key }));
    const record = JSON.parse((await response.Body?.transformToString()) ?? '{}') as Record<string, string>;
    records.push({ key, source: String(record.key), reason: String(record.reason), error: String(record.error) });
  }
  return records;
}

export async function readContents(client: S3Client, cfg: DuckCfg): Promise<LakehouseContents> {
  const silverKeys = await listKeys(client, BUCKETS.silver);
  const goldKeys = await listKeys(client, BUCKETS.gold);
  const isGoldState = (key: string) => key.startsWith(`${GOLD_STATE_PREFIX}/`);
  return {
    silver: await rowCounts(
      client,
      cfg,
      BUCKETS.silver,
      silverKeys.filter((key) => !key.startsWith('_') && key.endsWith('.parquet')),
    ),
    rejects: await rejectCounts(
      client,
      cfg,
      silverKeys.filter((key) => key.startsWith(`${REJECTS_PREFIX}/`)),
    ),
    quarantined: await quarantineRecords(
      client,
      silverKeys.filter((key) => key.startsWith(`${QUARANTINE_PREFIX}/`)),
    ),
    gold: await rowCounts(
      client,
      cfg,
      BUCKETS.gold,
      goldKeys.filter((key) => !isGoldState(key) && key.endsWith('.parquet')),
    ),
    goldStateObjects: goldKeys.filter(isGoldState).length,
  };
}
