import { quarantineKey } from '@lakehouse/contract';
import { messageOf, type PoisonFileError } from '../errors';
import { putJson } from '../io/s3-io';
import type { IngestDeps, Quarantined, RawObject } from './ingest-object';

/**
 * The quarantine record of a file that can never be processed: what it is,
 * and why, at a key named by its version (a re-delivered event rewrites it).
 */
export async function quarantine(
  raw: RawObject,
  dataset: string,
  version: string,
  error: PoisonFileError,
  { s3, cfg }: IngestDeps,
  now: () => Date,
): Promise<Quarantined> {
  const recordKey = quarantineKey(raw.key, version);
  await putJson(s3, cfg.silverBucket, recordKey, {
    bucket: raw.bucket,
    key: raw.key,
    etag: raw.eTag ?? null,
    versionId: raw.versionId ?? null,
    dataset,
    reason: error.reason,
    error: messageOf(error),
    quarantinedAt: now().toISOString(),
  });
  return { status: 'quarantined', dataset, quarantineKey: recordKey, reason: error.reason, error: error.message };
}
