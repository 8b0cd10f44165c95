import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { QUARANTINE_PREFIX, REJECTS_PREFIX } from '@lakehouse/contract';
import type { Config } from '../../src/config';
import { sqlString, withConnection } from '../../src/io/duckdb';
import { listObjects, unquote } from '../../src/io/s3-io';
import { withDownloaded } from '../lakehouse-contents';
import { BUCKETS } from '../local-lakehouse';

/** One rejects object: when its rows were ingested, and how many broke each rule (a row can break several). */
export interface RejectsSummary {
  key: string;
  dataset: string;
  time: string;
  rows: number;
  rules: Record<string, number>;
}

/** One quarantine record: which raw file, when, and why. */
export interface QuarantineSummary {
  key: string;
  dataset: string;
  time: string;
  source: string;
  reason: string;
}

export interface QualityReport {
  rejects: RejectsSummary[];
  quarantined: QuarantineSummary[];
}

interface Listed {
  key: string;
  eTag: string;
}

/**
 * Quality over time, read from what silver holds: its `_rejects/` objects
 * and `_quarantine/` records. Each object is read once (by key and ETag):
 * outputs are immutable per raw version, so a refresh reads only new ones.
 */
export class QualityReader {
  private readonly rejectsCache = new Map<string, Promise<RejectsSummary>>();
  private readonly quarantineCache = new Map<string, Promise<QuarantineSummary>>();

  constructor(
    private readonly client: S3Client,
    private readonly cfg: Pick<Config, 'workDir' | 'duckdb'>,
  ) {}

  async report(): Promise<QualityReport> {
    const [rejects, quarantined] = await Promise.all([
      list(this.client, `${REJECTS_PREFIX}/`),
      list(this.client, `${QUARANTINE_PREFIX}/`),
    ]);
    return {
      rejects: await sequentially(
        rejects.filter(({ key }) => key.endsWith('.parquet')),
        ({ key, eTag }) => this.rejects(key, eTag),
      ),
      quarantined: await Promise.all(
        quarantined.filter(({ key }) => key.endsWith('.json')).map(({ key, eTag }) => this.quarantine(key, eTag)),
      ),
    };
  }

  rejects(key: string, eTag: string): Promise<RejectsSummary> {
    return cached(this.rejectsCache, `${key}\0${eTag}`, () => this.readRejects(key));
  }

  private quarantine(key: string, eTag: string): Promise<QuarantineSummary> {
    return cached(this.quarantineCache, `${key}\0${eTag}`, async () => {
      const response = await this.client.send(new GetObjectCommand({ Bucket: BUCKETS.silver, Key: key }));
      const record = JSON.parse((await response.Body?.transformToString()) ?? '{}') as Record<string, unknown>;
      return {
        key,
        dataset: String(record.dataset ?? key.split('/')[1]),
        time: String(record.quarantinedAt ?? response.LastModified?.toISOString()),
        source: String(record.key),
        reason: String(record.reason),
      };
    });
  }

  private readRejects(key: string): Promise<RejectsSummary> {
    return withDownloaded(this.client, this.cfg, BUCKETS.silver, [key], ([path]) =>
      withConnection(this.cfg, async (connection) => {
        const file = `read_parquet(${sqlString(path as string)})`;
        const totals = await connection.runAndReadAll(
          `select count(*)::bigint as n, strftime(min(_ingested_at) at time zone 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ') as time from ${file}`,
        );
        const byRule = await connection.runAndReadAll(
          `select rule, count(*)::bigint as n from (select unnest(_failed_rules) as rule from ${file})
           group by rule order by n desc, rule`,
        );
        const total = totals.getRowObjectsJS()[0] ?? {};
        return {
          key,
          dataset: key.split('/')[1] ?? '',
          time: String(total.time),
          rows: Number(total.n ?? 0),
          rules: Object.fromEntries(byRule.getRowObjectsJS().map((row) => [String(row.rule), Number(row.n)])),
        };
      }),
    );
  }
}

function cached<T>(cache: Map<string, Promise<T>>, id: string, read: () => Promise<T>): Promise<T> {
  let entry = cache.get(id);
  if (!entry) {
    entry = read();
    cache.set(id, entry);
    // A failed read is tried again next time.
    entry.catch(() => cache.delete(id));
  }
  return entry;
}

/** One at a time: each read downloads a file and runs DuckDB. */
async function sequentially<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await fn(item));
  return results;
}

async function list(client: S3Client, prefix: string): Promise<Listed[]> {
  return (await listObjects(client, BUCKETS.silver, prefix)).flatMap((object) =>
    object.Key ? [{ key: object.Key, eTag: unquote(object.ETag) }] : [],
  );
}
