import type { S3Event, S3EventRecord } from 'aws-lambda';
import type { RawObject } from './ingest-object';

/** S3 encodes keys like an HTML form: `+` is a space, `%XX` are UTF-8 bytes. */
export function decodeS3Key(encoded: string): string {
  return decodeURIComponent(encoded.replace(/\+/g, ' '));
}

export type RecordDecision = { ingest: RawObject } | { skip: string };

/** What to do with one record: ingest an object, or skip it with a reason. */
export function decideRecord(record: S3EventRecord): RecordDecision {
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
    },
  };
}

export function recordsOf(event: Partial<S3Event>): S3EventRecord[] {
  return Array.isArray(event.Records) ? event.Records : [];
}
