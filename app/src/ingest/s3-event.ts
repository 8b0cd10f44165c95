import type { S3Event, S3EventRecord } from 'aws-lambda';
import type { RawObject } from './ingest-object';

/** S3 encodes keys like an HTML form: `+` is a space, `%XX` are UTF-8 bytes. */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

/**
 * A record the pipeline sends itself: reconcile marks the raw versions whose
 * silver file was lost after gold applied it (see `RawObject.alreadyInGold`).
 * S3's own records never carry `lakehouse`.
 */
export interface PipelineRecord extends S3EventRecord {
  lakehouse?: { alreadyInGold?: boolean };
}

export type RecordDecision = { ingest: RawObject } | { skip: string };

/** What to do with one record: ingest an object, or skip it with a reason. */
export function decideRecord(record: PipelineRecord): RecordDecision {
  if (!record.eventName?.startsWith('ObjectCreated:')) return { skip: `event ${record.eventName} is not a creation` };
  const key = decodeS3Key(record.s3.object.key);
  if (key.endsWith('/')) return { skip: 'folder marker' };
  const { eTag, versionId, size } = record.s3.object;
  return {
    ingest: {
      bucket: record.s3.bucket.name,
      key,
      ...(eTag ? { eTag } : {}),
      ...(versionId ? { versionId } : {}),
      ...(typeof size === 'number' ? { size } : {}),
      ...(record.lakehouse?.alreadyInGold === true ? { alreadyInGold: true } : {}),
    },
  };
}

export function recordsOf(event: Partial<S3Event>): S3EventRecord[] {
  return Array.isArray(event.Records) ? event.Records : [];
}
