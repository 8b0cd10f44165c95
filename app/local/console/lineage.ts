import { GetObjectCommand, HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { goldPartitionKey } from '@lakehouse/contract';
import type { Dataset } from '../../src/datasets';
import { unquote } from '../../src/io/s3-io';
import { BUCKETS } from '../local-lakehouse';
import type { ConsoleEvent } from './event-history';
import type { QualityReader } from './quality';

/** An object of the lakehouse as lineage shows it; `exists` is false when it is gone since (overwritten, deleted). */
export interface LineageObject {
  bucket: string;
  key: string;
  exists: boolean;
  size?: number;
  lastModified?: string;
  eTag?: string;
}

/** Where one raw version went: its silver object and rejects, or its quarantine record, and the gold partitions it changed. */
export interface Lineage {
  event: ConsoleEvent;
  raw: LineageObject & { versionId?: string; current: boolean };
  silver?: LineageObject & { rows?: number };
  rejects?: LineageObject & { rows?: number; rules: Record<string, number> };
  quarantine?: LineageObject & { record?: Record<string, unknown> };
  gold: Array<LineageObject & { table: string; partition: string }>;
}

async function head(client: S3Client, bucket: string, key: string): Promise<LineageObject> {
  try {
    const object = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return {
      bucket,
      key,
      exists: true,
      size: object.ContentLength,
      lastModified: object.LastModified?.toISOString(),
      eTag: object.ETag && unquote(object.ETag),
    };
  } catch (error) {
    if ((error as { name?: string }).name === 'NotFound') return { bucket, key, exists: false };
    throw error;
  }
}

/** The lineage of an event, read back from the buckets now (so it also says what is gone since). */
export async function lineageOf(
  event: ConsoleEvent,
  client: S3Client,
  datasets: ReadonlyMap<string, Dataset>,
  quality: QualityReader,
): Promise<Lineage> {
  const raw = await head(client, event.bucket, event.key);
  const lineage: Lineage = {
    event,
    // The event's version is current while the raw key still has its ETag.
    raw: { ...raw, versionId: event.versionId, current: raw.exists && (!event.eTag || raw.eTag === event.eTag) },
    gold: [],
  };
  if (event.silverKey) {
    lineage.silver = { ...(await head(client, BUCKETS.silver, event.silverKey)), rows: event.silverRows };
  }
  if (event.rejectsKey) {
    const rejects = await head(client, BUCKETS.silver, event.rejectsKey);
    const summary = rejects.exists && rejects.eTag ? await quality.rejects(rejects.key, rejects.eTag) : undefined;
    lineage.rejects = { ...rejects, rows: event.rejectedRows, rules: summary?.rules ?? {} };
  }
  if (event.quarantineKey) {
    const record = await head(client, BUCKETS.silver, event.quarantineKey);
    lineage.quarantine = { ...record, ...(record.exists ? { record: await readJson(client, record) } : {}) };
  }
  const dataset = event.dataset ? datasets.get(event.dataset) : undefined;
  const column = dataset?.partition?.column;
  if (dataset && column) {
    for (const partition of event.goldPartitions ?? []) {
      for (const table of dataset.goldTables) {
        const object = await head(client, BUCKETS.gold, goldPartitionKey(dataset.name, table.name, column, partition));
        lineage.gold.push({ ...object, table: table.name, partition: `${column}=${partition}` });
      }
    }
  }
  return lineage;
}

async function readJson(client: S3Client, object: LineageObject): Promise<Record<string, unknown>> {
  const response = await client.send(new GetObjectCommand({ Bucket: object.bucket, Key: object.key }));
  return JSON.parse((await response.Body?.transformToString()) ?? '{}') as Record<string, unknown>;
}
