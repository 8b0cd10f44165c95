import { randomBytes } from 'node:crypto';
import type { S3EventRecord } from 'aws-lambda';

export interface ObjectCreation {
  bucket: string;
  /** The key as stored (not encoded). */
  key: string;
  eventName: string;
  size: number;
  eTag: string;
  /** Increases with every creation; orders events for the same key. */
  sequencer: bigint;
  sourceIp: string;
  versionId?: string;
}

/**
 * S3 URL-encodes keys in notifications like an HTML form: a space becomes `+`,
 * `+` becomes `%2B`, non-ASCII becomes UTF-8 `%XX` bytes, `/` stays.
 */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

/**
 * An S3 notification record in AWS's documented format (event version 2.1).
 * s3rver's own records differ: raw keys, a malformed bucket ARN, no
 * CompleteMultipartUpload event name, and a millisecond sequencer.
 */
export function toAwsRecord(creation: ObjectCreation): S3EventRecord {
  const hex = (bytes: number) => randomBytes(bytes).toString('hex').toUpperCase();
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: new Date().toISOString(),
    eventName: creation.eventName,
    userIdentity: { principalId: `AWS:${hex(10)}` },
    requestParameters: { sourceIPAddress: creation.sourceIp },
    responseElements: { 'x-amz-request-id': hex(8), 'x-amz-id-2': randomBytes(48).toString('base64') },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'local-lakehouse',
      bucket: {
        name: creation.bucket,
        ownerIdentity: { principalId: hex(7) },
        arn: `arn:aws:s3:::${creation.bucket}`,
      },
      object: {
        key: encodeEventKey(creation.key),
        size: creation.size,
        eTag: creation.eTag,
        ...(creation.versionId ? { versionId: creation.versionId } : {}),
        sequencer: creation.sequencer.toString(16).toUpperCase().padStart(16, '0'),
      },
    },
  };
}
