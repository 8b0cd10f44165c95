import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type _Object,
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  NoSuchKey,
  PutObjectCommand,
  paginateListObjectsV2,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Config } from '../config';
import { SourceGoneError } from '../errors';

/**
 * A stalled connection fails fast (and the invocation is retried) instead of
 * eating the function's timeout. Without `throwOnRequestTimeout` the SDK only
 * logs a warning when `requestTimeout` passes, and goes on waiting.
 */
export const S3_TIMEOUTS: S3Timeouts = { connectionTimeout: 5_000, requestTimeout: 60_000 };

export interface S3Timeouts {
  connectionTimeout: number;
  requestTimeout: number;
}

/** One client per container: connections are reused across warm invocations. */
export function createS3Client(
  cfg: Pick<Config, 's3Endpoint' | 'region'>,
  timeouts: S3Timeouts = S3_TIMEOUTS,
): S3Client {
  const requestHandler = { ...timeouts, throwOnRequestTimeout: true };
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
  /** The size when known (from the event): a small object is read in one plain GET. */
  size?: number;
}

export interface DownloadedObject {
  bytes: number;
  eTag: string;
  versionId?: string;
  lastModified?: Date;
  /** The object's user metadata (`x-amz-meta-*`, names lowercased). */
  metadata?: Record<string, string>;
}

/**
 * A single GET stream is the slowest way to read a large object: S3 serves
 * each connection at a bounded rate. Large objects come down as ranged GETs
 * in parallel, each written at its offset.
 */
export const DOWNLOAD: DownloadOptions = { partBytes: 16 * 1024 * 1024, concurrency: 8 };

export interface DownloadOptions {
  partBytes: number;
  concurrency: number;
  /** Called as ranges complete: bytes written so far, of the object's size. */
  onBytes?: (done: number, total: number) => void;
}

const isNotFound = (error: unknown) =>
  error instanceof NoSuchKey || ['NoSuchKey', 'NoSuchVersion', 'NotFound'].includes((error as Error).name);
/** An ETag as S3 sends it, quoted, or absent: bare, '' when absent (keys and records name it bare). */
export const unquote = (eTag: string | undefined) => (eTag ?? '').replace(/"/g, '');
/** An object or version that is no longer there, as SourceGoneError (the event is skipped); any other error as it is. */
const goneIfMissing = (error: unknown, ref: ObjectRef) =>
  isNotFound(error) ? new SourceGoneError(`s3://${ref.bucket}/${ref.key} no longer exists`, { cause: error }) : error;
const isInvalidRange = (error: unknown) =>
  (error as Error).name === 'InvalidRange' ||
  (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416;

/** One GET of an object version, optionally a byte range and conditional on an ETag. */
function getRange(s3: S3Client, ref: ObjectRef, range?: string, ifMatch?: string): Promise<GetObjectCommandOutput> {
  return s3.send(
    new GetObjectCommand({
      Bucket: ref.bucket,
      Key: ref.key,
      VersionId: ref.versionId,
      Range: range,
      IfMatch: ifMatch,
    }),
  );
}

/**
 * A ranged GET of the version whose ETag is `eTag` (quoted, as S3 sends it).
 * S3 answers 412 to the If-Match; a server that ignores it still names what
 * it sent, and another version fails here, its body discarded: two versions
 * never mix. `changed` says when it was first read ("while it was read").
 */
async function getRangeOfVersion(
  s3: S3Client,
  ref: ObjectRef,
  range: string,
  eTag: string,
  changed: string,
): Promise<GetObjectCommandOutput> {
  const part = await getRange(s3, ref, range, eTag);
  const [wanted, sent] = [unquote(eTag), unquote(part.ETag)];
  if (sent && sent !== wanted) {
    (part.Body as Readable | undefined)?.destroy?.();
    throw new Error(`s3://${ref.bucket}/${ref.key} changed ${changed} (ETag ${wanted}, then ${sent})`);
  }
  return part;
}

/**
 * Streams an object to a local file, in parallel ranges when it is large.
 * Every range after the first names the first one's ETag (and the version),
 * and must come back with it, so an object overwritten mid-download fails the
 * read (the invocation is retried) instead of mixing two versions. Outputs
 * are keyed by the ETag and version returned here (what was actually read),
 * not by the event's.
 */
export async function downloadToFile(
  s3: S3Client,
  ref: ObjectRef,
  path: string,
  { partBytes, concurrency, onBytes }: DownloadOptions = DOWNLOAD,
): Promise<DownloadedObject> {
  // Created (or emptied) once; each range then writes through its own descriptor at its offset.
  await writeFile(path, '');
  try {
    const get = (range?: string, ifMatch?: string) => getRange(s3, ref, range, ifMatch);
    let first: GetObjectCommandOutput;
    if (ref.size !== undefined && ref.size <= partBytes) {
      first = await get();
    } else {
      try {
        first = await get(`bytes=0-${partBytes - 1}`);
      } catch (error) {
        // An empty object has no byte 0 to range over.
        if (!isInvalidRange(error)) throw error;
        first = await get();
      }
    }
    const total = totalSize(first);
    await writeBody(first, path, 0);
    let done = Math.min(total, partBytes);
    onBytes?.(done, total);
    const eTag = unquote(first.ETag);
    const versionId = first.VersionId ?? ref.versionId;

    const ranges: Array<[number, number]> = [];
    for (let start = partBytes; start < total; start += partBytes) {
      ranges.push([start, Math.min(total, start + partBytes) - 1]);
    }
    await inParallel(ranges, concurrency, async ([start, end]) => {
      const part = await getRangeOfVersion(s3, ref, `bytes=${start}-${end}`, first.ETag ?? '', 'while it was read');
      await writeBody(part, path, start);
      done += end - start + 1;
      onBytes?.(done, total);
    });
    return { bytes: total, eTag, versionId, lastModified: first.LastModified, metadata: first.Metadata };
  } catch (error) {
    throw goneIfMissing(error, ref);
  }
}

/** One version of an object read by byte ranges: every range names the version (or ETag) the first one read. */
export interface RangedObject {
  bucket: string;
  key: string;
  size: number;
  eTag: string;
  versionId?: string;
  lastModified?: Date;
  /** The object's first bytes (up to what `openRanged` was asked for). */
  head: Buffer;
  /** Bytes [start, end) of this version; an object overwritten since fails the read. */
  read(start: number, end: number): Promise<Buffer>;
}

/**
 * Opens an object for small ranged GETs: the first one reads its head and
 * learns its size and ETag; each later one is conditional on that ETag, so a
 * plan is never made from two versions of one object.
 */
export async function openRanged(s3: S3Client, ref: ObjectRef, headBytes: number): Promise<RangedObject> {
  const get = (range: string | undefined, ifMatch?: string) => getRange(s3, ref, range, ifMatch);
  let first: GetObjectCommandOutput;
  try {
    first = await get(`bytes=0-${Math.max(1, headBytes) - 1}`).catch((error) => {
      // An empty object has no byte 0 to range over.
      if (isInvalidRange(error)) return get(undefined);
      throw error;
    });
  } catch (error) {
    throw goneIfMissing(error, ref);
  }
  const head = Buffer.from((await first.Body?.transformToByteArray()) ?? []);
  const versionId = first.VersionId ?? ref.versionId;
  return {
    bucket: ref.bucket,
    key: ref.key,
    size: totalSize(first),
    eTag: unquote(first.ETag),
    ...(versionId ? { versionId } : {}),
    ...(first.LastModified ? { lastModified: first.LastModified } : {}),
    head,
    async read(start, end) {
      if (end <= start) return Buffer.alloc(0);
      try {
        const part = await getRangeOfVersion(
          s3,
          ref,
          `bytes=${start}-${end - 1}`,
          first.ETag ?? '',
          'while it was read',
        );
        return Buffer.from((await part.Body?.transformToByteArray()) ?? []);
      } catch (error) {
        throw goneIfMissing(error, ref);
      }
    },
  };
}

type RangeParts = Pick<DownloadOptions, 'partBytes' | 'concurrency'>;

/** A chunk's range: parts as whole downloads have them, fewer at once (chunks run side by side). */
const RANGE_DOWNLOAD: RangeParts = { partBytes: DOWNLOAD.partBytes, concurrency: 4 };

/**
 * Streams bytes [start, end) of one object version to a local file, after
 * `prefix` (a CSV chunk's header line): one chunk of a file processed in
 * chunks. The GET names the ETag the plan read, so a chunk never reads a
 * newer version than its siblings.
 */
export async function downloadRangeToFile(
  s3: S3Client,
  ref: ObjectRef & { eTag: string },
  range: { start: number; end: number },
  path: string,
  prefix: Buffer = Buffer.alloc(0),
  parts: RangeParts = RANGE_DOWNLOAD,
): Promise<void> {
  await writeFile(path, prefix);
  await downloadRangeAt(s3, ref, range, path, prefix.length, parts);
}

/**
 * Streams bytes [start, end) of one object version into an existing local
 * file at `offset` (by default the range's own offset: a sparse copy of a
 * Parquet file holding only a chunk's row groups and the footer). A range
 * above one part comes down as ranged GETs in parallel, as whole downloads do,
 * each written at its offset: one stream is slower than several.
 */
export async function downloadRangeAt(
  s3: S3Client,
  ref: ObjectRef & { eTag: string },
  { start, end }: { start: number; end: number },
  path: string,
  offset = start,
  { partBytes, concurrency }: RangeParts = RANGE_DOWNLOAD,
): Promise<void> {
  const parts: Array<[number, number]> = [];
  for (let from = start; from < end; from += partBytes) parts.push([from, Math.min(end, from + partBytes)]);
  try {
    await inParallel(parts, concurrency, async ([from, to]) => {
      const range = `bytes=${from}-${to - 1}`;
      const response = await getRangeOfVersion(s3, ref, range, `"${ref.eTag}"`, 'since it was planned');
      await writeBody(response, path, offset + (from - start));
    });
  } catch (error) {
    throw goneIfMissing(error, ref);
  }
}

/** The object's whole size: from Content-Range for a ranged answer, Content-Length otherwise. */
function totalSize(response: GetObjectCommandOutput): number {
  const match = /\/(\d+)$/.exec(response.ContentRange ?? '');
  return match ? Number(match[1]) : (response.ContentLength ?? 0);
}

/**
 * Streams a response body into the file at `offset` (buffered writes, not one
 * per network chunk). A body cut short of its Content-Length fails here
 * (Node's "aborted"), so the invocation is retried.
 */
async function writeBody(response: GetObjectCommandOutput, path: string, offset: number): Promise<void> {
  await pipeline(response.Body as Readable, createWriteStream(path, { flags: 'r+', start: offset }));
}

/**
 * Runs `work` on every item, at most `limit` at a time. After a failure no
 * new item starts, and the first failure is thrown once the running ones
 * have settled: a caller's cleanup never races a download still writing.
 */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      try {
        await work(items[next++] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw failure.error;
}

/**
 * Promise.all over requests sent at once, but the first failure is thrown
 * only once every one has settled (as in `inParallel`).
 */
export async function settled<P extends readonly Promise<unknown>[]>(
  promises: P,
): Promise<{ -readonly [K in keyof P]: Awaited<P[K]> }> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as {
    -readonly [K in keyof P]: Awaited<P[K]>;
  };
}

/** The Content-Type of the Parquet objects the pipeline writes. */
export const PARQUET_TYPE = 'application/vnd.apache.parquet';

/**
 * Up to 64 MB, one PUT of the file read into memory; above, a multipart
 * upload of 16 MB parts, 4 at a time: either way at most 64 MB in memory, and
 * every request has a body the SDK can send again, so a throttled or reset
 * request is retried there instead of failing the whole invocation (a
 * streamed body cannot be resent).
 */
const PART_BYTES = 16 * 1024 * 1024;
const PARTS_AT_ONCE = 4;
const SINGLE_PUT_MAX_BYTES = PART_BYTES * PARTS_AT_ONCE;

export interface UploadedObject {
  eTag: string;
}

/** Uploads a local file, holding at most 64 MB of it in memory. */
export async function uploadFile(
  s3: S3Client,
  bucket: string,
  key: string,
  path: string,
  contentType: string,
  metadata?: Record<string, string>,
): Promise<UploadedObject> {
  const { size } = await stat(path);
  const described = { ContentType: contentType, ...(metadata ? { Metadata: metadata } : {}) };
  if (size <= SINGLE_PUT_MAX_BYTES) {
    const response = await s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: await readFile(path), ...described }),
    );
    return { eTag: unquote(response.ETag) };
  }
  const response = await new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: createReadStream(path), ...described },
    queueSize: PARTS_AT_ONCE,
    partSize: PART_BYTES,
  }).done();
  return { eTag: unquote(response.ETag) };
}

/** A server-side copy: the bytes never pass through this function. */
export async function copyObject(
  s3: S3Client,
  from: { bucket: string; key: string; eTag?: string },
  to: { bucket: string; key: string },
  contentType: string,
): Promise<UploadedObject> {
  const response = await s3.send(
    new CopyObjectCommand({
      Bucket: to.bucket,
      Key: to.key,
      CopySource: `${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`,
      ...(from.eTag ? { CopySourceIfMatch: `"${from.eTag}"` } : {}),
      // Our own metadata and no tags: nothing to read from the source but its bytes.
      MetadataDirective: 'REPLACE',
      TaggingDirective: 'REPLACE',
      ContentType: contentType,
    }),
  );
  return { eTag: unquote(response.CopyObjectResult?.ETag) };
}

/** A JSON object on one line: Athena's JSON SerDe reads quarantine records as one object per line. */
export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<UploadedObject> {
  const response = await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: `${JSON.stringify(value)}\n`,
      ContentType: 'application/json',
    }),
  );
  return { eTag: unquote(response.ETag) };
}

/** A small JSON object and the ETag it was read at, or undefined when there is no such object. */
export async function getJsonWithETag<T>(
  s3: S3Client,
  bucket: string,
  key: string,
): Promise<{ value: T; eTag: string } | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const value = JSON.parse((await response.Body?.transformToString()) ?? '') as T;
    return { value, eTag: response.ETag ?? '' };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** S3's answers to a conditional write whose condition no longer holds: someone else wrote first. */
const isConditionFailed = (error: unknown) =>
  ['PreconditionFailed', 'ConditionalRequestConflict'].includes((error as Error).name) ||
  isNotFound(error) ||
  [409, 412].includes((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0);

/**
 * Writes a small JSON object only if it is still at `eTag` (or, without one,
 * only if there is no object yet): S3's conditional writes. False when
 * another writer got there first; read it again and retry.
 */
export async function putJsonIfUnchanged(
  s3: S3Client,
  bucket: string,
  key: string,
  value: unknown,
  eTag: string | undefined,
): Promise<boolean> {
  try {
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: `${JSON.stringify(value, null, 2)}\n`,
        ContentType: 'application/json',
        ...(eTag ? { IfMatch: eTag } : { IfNoneMatch: '*' }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
}

/** A small JSON object, or undefined when there is no such object. */
export async function getJsonIfExists<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return JSON.parse((await response.Body?.transformToString()) ?? '') as T;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
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

/** Every object under a prefix, across pages (the SDK's paginator), as listed. */
export async function listObjects(s3: S3Client, bucket: string, prefix?: string): Promise<_Object[]> {
  const objects: _Object[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, Prefix: prefix })) {
    objects.push(...(page.Contents ?? []));
  }
  return objects;
}

/** Every key under a prefix, sorted, across pages. */
export async function listKeys(s3: S3Client, bucket: string, prefix?: string): Promise<string[]> {
  return (await listObjects(s3, bucket, prefix)).flatMap((object) => (object.Key ? [object.Key] : [])).sort();
}

export async function deleteObject(s3: S3Client, bucket: string, key: string) {
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
