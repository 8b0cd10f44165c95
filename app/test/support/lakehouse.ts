import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { encodeEventKey, type LocalS3, startLocalS3 } from '@lakehouse/local-s3';
import type { S3Event, S3EventRecord } from 'aws-lambda';
import { listKeys, withDownloaded } from '../../local/lakehouse-contents';
import { BUCKETS } from '../../local/local-lakehouse';
import { type Config, loadConfig } from '../../src/config';
import type { Dataset } from '../../src/datasets';
import { sqlString, withConnection } from '../../src/io/duckdb';
import { createS3Client, type S3Timeouts } from '../../src/io/s3-io';
import { createRuntime, type Runtime } from '../../src/runtime';

export { BUCKETS };

/**
 * A real S3 server on loopback with the three buckets, and the handler's
 * runtime pointed at it. Events are the server's own notifications.
 */
export interface TestLakehouse {
  s3: LocalS3;
  /** The environment the runtime's configuration was loaded from: add to it for another runtime on the same server. */
  env: Record<string, string>;
  cfg: Config;
  rt: Runtime;
  /** Uploads to raw and returns the S3 notification for that upload. */
  upload(key: string, body: string | Buffer): Promise<S3EventRecord>;
  list(bucket: string, prefix?: string): Promise<string[]>;
  getText(bucket: string, key: string): Promise<string>;
  getBytes(bucket: string, key: string): Promise<Buffer>;
  /** Rows of a Parquet object, read back with DuckDB. */
  readParquet(bucket: string, key: string, sql?: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export const eventOf = (...records: S3EventRecord[]): S3Event => ({ Records: records });

/** A runtime like the lakehouse's (its datasets), whose S3 requests go to `endpoint`: a fault proxy in front of its server. */
export function runtimeThrough(lake: TestLakehouse, endpoint: string, timeouts?: S3Timeouts): Runtime {
  const cfg = loadConfig({ ...lake.env, S3_ENDPOINT: endpoint });
  return createRuntime(cfg, lake.rt.datasets, createS3Client(cfg, timeouts));
}

export async function startTestLakehouse(datasets?: ReadonlyMap<string, Dataset>): Promise<TestLakehouse> {
  const s3 = await startLocalS3({ buckets: Object.values(BUCKETS) });
  const workDir = await mkdtemp(join(tmpdir(), 'lakehouse-test-'));
  const env = {
    SILVER_BUCKET: BUCKETS.silver,
    GOLD_BUCKET: BUCKETS.gold,
    S3_ENDPOINT: s3.endpoint,
    AWS_REGION: 'us-east-1',
    WORK_DIR: workDir,
  };
  const cfg = loadConfig(env);
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
  const rt = createRuntime(cfg, datasets);
  const client = s3.client();
  const pending = new Map<string, (record: S3EventRecord) => void>();
  s3.onObjectCreated((record) => {
    if (record.s3.bucket.name !== BUCKETS.raw) return;
    pending.get(record.s3.object.key)?.(record);
  });

  return {
    s3,
    env,
    cfg,
    rt,
    async upload(key, body) {
      const encoded = encodeEventKey(key);
      const notified = new Promise<S3EventRecord>((resolve) => pending.set(encoded, resolve));
      await client.send(new PutObjectCommand({ Bucket: BUCKETS.raw, Key: key, Body: Buffer.from(body) }));
      const record = await notified;
      pending.delete(encoded);
      return record;
    },
    list: (bucket, prefix) => listKeys(client, bucket, prefix),
    async getText(bucket, key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return (await response.Body?.transformToString()) ?? '';
    },
    async getBytes(bucket, key) {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await response.Body?.transformToByteArray()) ?? []);
    },
    readParquet(bucket, key, sql = 'select * from t') {
      return withDownloaded(client, cfg, bucket, [key], ([path]) =>
        withConnection(cfg, async (connection) => {
          await connection.run(
            `create or replace temp view t as select * from read_parquet(${sqlString(path as string)})`,
          );
          return (await connection.runAndReadAll(sql)).getRowObjectsJS();
        }),
      );
    },
    async close() {
      await s3.close();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
