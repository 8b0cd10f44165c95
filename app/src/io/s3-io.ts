import { createReadStream, createWriteStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../config';
import { SourceGoneError } from '../errors';

/** One client per container: connections are reused across warm invocations. */
export function createS3Client(cfg: Pick<Config, 's3Endpoint' | 'region'>): S3Client {
  // A stalled connection fails fast (and the invocation is retried) instead of eating the function's timeout.
  const requestHandler = { connectionTimeout: 5_000, requestTimeout: 60_000 };
  if (!cfg.s3Endpoint) return new S3Client({ region: cfg.region, requestHandler });
  return new S3Client({
    requestHandler,
    endpoint: cfg.s3Endpoint,
    region: cfg.region ?? 'us-east-1',
    forcePathStyle: true,
    // Not every S3-compatible store understands flexible-checksum (aws-chunked) uploads.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export interface ObjectRef {
  bucket: string;
  key: string;
  versionId?: string;
}

export interface DownloadedObject {
  bytes: number;
  eTag: string;
  versionId?: string;
  lastModified?: Date;
}

/**
 * Streams an object to a local file. Outputs are keyed by the etag and version
 * returned here (what was actually read), not by the event's, so an object
 * overwritten since its event is never filed under the older etag.
 */
export async function downloadToFile(s3: S3Client, ref: ObjectRef, path: string): Promise<DownloadedObject> {
  try {
    const response = await s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId }),
    );
    await pipeline(response.Body as Readable, createWriteStream(path));
    return {
      bytes: response.ContentLength ?? 0,
      eTag: (response.ETag ?? '').replace(/"/g, ''),
      versionId: response.VersionId ?? ref.versionId,
      lastModified: response.LastModified,
    };
  } catch (error) {
    if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchVersion') {
      throw new SourceGoneError(`s3://${ref.bucket}/${ref.key} no longer exists`, { cause: error });
    }
    throw error;
  }
}

/** Streams a local file to S3 (multipart when large). */
export async function uploadFile(s3: S3Client, bucket: string, key: string, path: string, contentType: string) {
  await new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: createReadStream(path), ContentType: contentType },
    queueSize: 4,
    partSize: 16 * 1024 * 1024,
  }).done();
}

export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown) {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${JSON.stringify(value, null, 2)}\n`,
      ContentType: 'application/json',
    }),
  );
}

/** Streams an object to a local file; false when there is no such object. */
export async function downloadIfExists(s3: S3Client, bucket: string, key: string, path: string): Promise<boolean> {
  try {
    await downloadToFile(s3, { bucket, key }, path);
    return true;
  } catch (error) {
    if (error instanceof SourceGoneError) return false;
    throw error;
  }
}

export async function deleteObject(s3: S3Client, bucket: string, key: string) {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
