import { GetBucketVersioningCommand, ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import { datasetOf } from '@lakehouse/contract';
import type { S3EventRecord } from 'aws-lambda';
import { listObjects, unquote } from '../io/s3-io';

/** The current version of one raw object, as a listing gives it. */
export interface RawVersion {
  key: string;
  eTag: string;
  /** On a versioned bucket (raw on AWS). */
  versionId?: string;
  size: number;
  lastModified: Date;
}

/** What the ingestion function keys outputs by: the version read, else its ETag (see ingestObject). */
export const versionOf = (raw: RawVersion) => raw.versionId ?? raw.eTag;

export interface RawFilter {
  dataset?: string;
  /** Only objects last modified at or after this. */
  since?: Date;
}

/**
 * The current version of every object in `bucket` (folder markers left out),
 * oldest first: on a versioned bucket with their version ids, since outputs
 * are keyed by the version the function read.
 */
export async function listRawObjects(s3: S3Client, bucket: string, filter: RawFilter = {}): Promise<RawVersion[]> {
  const prefix = filter.dataset ? `${filter.dataset}/` : undefined;
  const objects = (await isVersioned(s3, bucket))
    ? await listLatestVersions(s3, bucket, prefix)
    : await listCurrentObjects(s3, bucket, prefix);
  return objects
    .filter((raw) => !raw.key.endsWith('/'))
    .filter((raw) => !filter.dataset || datasetOf(raw.key) === filter.dataset)
    .filter((raw) => !filter.since || raw.lastModified >= (filter.since as Date))
    .sort((a, b) => a.lastModified.getTime() - b.lastModified.getTime() || a.key.localeCompare(b.key));
}

async function isVersioned(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    const { Status } = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
    return Status === 'Enabled' || Status === 'Suspended';
  } catch (error) {
    // S3-compatible servers without versioning (the local one) answer NotImplemented.
    if ((error as Error).name === 'NotImplemented') return false;
    throw error;
  }
}

async function listCurrentObjects(s3: S3Client, bucket: string, prefix?: string): Promise<RawVersion[]> {
  return (await listObjects(s3, bucket, prefix)).flatMap((object) =>
    object.Key
      ? [
          {
            key: object.Key,
            eTag: unquote(object.ETag),
            size: object.Size ?? 0,
            lastModified: object.LastModified ?? new Date(0),
          },
        ]
      : [],
  );
}

async function listLatestVersions(s3: S3Client, bucket: string, prefix?: string): Promise<RawVersion[]> {
  const objects: RawVersion[] = [];
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    const page = await s3.send(
      new ListObjectVersionsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        VersionIdMarker: versionIdMarker,
      }),
    );
    // A key whose latest entry is a delete marker has no current version here.
    for (const version of page.Versions ?? []) {
      if (!version.IsLatest || !version.Key) continue;
      objects.push({
        key: version.Key,
        eTag: unquote(version.ETag),
        // An object written before versioning was enabled has the version "null": GET answers it too.
        ...(version.VersionId ? { versionId: version.VersionId } : {}),
        size: version.Size ?? 0,
        lastModified: version.LastModified ?? new Date(0),
      });
    }
    if (!page.IsTruncated) return objects;
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
  }
}

/** S3 form-encodes keys in notifications: a space is `+`, other reserved bytes `%XX`, `/` kept. */
export function encodeEventKey(key: string): string {
  return key
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%20/g, '+'))
    .join('/');
}

/**
 * The record S3 would have sent when the object was created (event version
 * 2.1): what the ingestion function is invoked with to process it again.
 */
export function creationRecord(bucket: string, raw: RawVersion, region = 'us-east-1'): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: raw.lastModified.toISOString(),
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'lakehouse-replay' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': 'lakehouse-replay', 'x-amz-id-2': 'lakehouse-replay' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'lakehouse-replay',
      bucket: { name: bucket, ownerIdentity: { principalId: 'lakehouse-replay' }, arn: `arn:aws:s3:::${bucket}` },
      object: {
        key: encodeEventKey(raw.key),
        size: raw.size,
        eTag: raw.eTag,
        ...(raw.versionId ? { versionId: raw.versionId } : {}),
        sequencer: raw.lastModified.getTime().toString(16).toUpperCase().padStart(16, '0'),
      },
    },
  };
}
