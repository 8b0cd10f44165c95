import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3EventRecord } from 'aws-lambda';
import S3rver from 's3rver';
import { type FilesystemStore, makeObjectWritesAtomic } from './atomic-store';
import { toAwsRecord } from './event-record';

// s3rver keeps its accounts in a registry; register the conventional local
// credentials (`test` / `test`, as LocalStack uses) beside its own.
const { DUMMY_ACCOUNT } = require('s3rver/lib/models/account') as {
  DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
};
export const LOCAL_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;
export const LOCAL_REGION = 'us-east-1';
DUMMY_ACCOUNT.createKeyPair(LOCAL_CREDENTIALS.accessKeyId, LOCAL_CREDENTIALS.secretAccessKey);

export type ObjectCreatedListener = (record: S3EventRecord) => void;

export interface LocalS3Options {
  /** Buckets to create at start (kept if they already exist). */
  buckets: readonly string[];
  /** 0 (default) picks a free port. */
  port?: number;
  /** Where objects are kept; default a fresh temp folder removed on close. */
  directory?: string;
  /** Print s3rver's request log. */
  verbose?: boolean;
  /** Serves other APIs on the same port: returns true for a request it answers (S3 never sees it). */
  intercept?: (request: IncomingMessage, response: ServerResponse) => boolean;
}

export interface LocalS3 {
  /** `http://127.0.0.1:<port>` */
  readonly endpoint: string;
  readonly port: number;
  readonly directory: string;
  /** An SDK client configured for this server. */
  client(): S3Client;
  /** Calls `listener` with an AWS-shaped record for every object created. */
  onObjectCreated(listener: ObjectCreatedListener): () => void;
  close(): Promise<void>;
}

/** SDK settings for a local, path-style S3 endpoint. */
export function localClientConfig(endpoint: string) {
  return {
    endpoint,
    region: LOCAL_REGION,
    forcePathStyle: true,
    credentials: LOCAL_CREDENTIALS,
    // s3rver predates flexible checksums: aws-chunked uploads would be stored with their framing.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  } as const;
}

interface RequestKind {
  multipartComplete: boolean;
}

/** Starts s3rver on loopback, creates the buckets, and resolves once it listens. */
export async function startLocalS3(options: LocalS3Options): Promise<LocalS3> {
  const ownsDirectory = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'local-s3-')));
  const s3rver = new S3rver({
    directory,
    silent: !options.verbose,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  const server = s3rver as unknown as S3rverInternals;
  makeObjectWritesAtomic(server.store as unknown as FilesystemStore);

  // s3rver reports a completed multipart upload as a POST; tag the request so
  // the record can say CompleteMultipartUpload as S3 does.
  const requestKind = new AsyncLocalStorage<RequestKind>();
  server.middleware.unshift((ctx, next) =>
    requestKind.run({ multipartComplete: ctx.method === 'POST' && 'uploadId' in ctx.query }, next),
  );

  server.middleware.unshift(conditionalWrites(server.store));

  const listeners = new Set<ObjectCreatedListener>();
  let sequence = 0n;
  server.on('event', (event: S3rverEvent) => {
    const raw = event.Records[0];
    if (!raw?.eventName.startsWith('ObjectCreated:')) return;
    const kind = requestKind.getStore();
    sequence += 1n;
    void server.store
      .getMetadata(raw.s3.bucket.name, raw.s3.object.key)
      .then((metadata) => {
        const record = toAwsRecord({
          bucket: raw.s3.bucket.name,
          key: raw.s3.object.key,
          eventName: kind?.multipartComplete ? 'ObjectCreated:CompleteMultipartUpload' : raw.eventName,
          size: Number(metadata['content-length']),
          eTag: String(metadata.etag).replace(/"/g, ''),
          sequencer: sequence,
          sourceIp: raw.requestParameters.sourceIPAddress,
        });
        for (const listener of listeners) listener(record);
      })
      .catch(() => {
        // The object was deleted before we read its metadata: no creation to report.
      });
  });

  // Our own HTTP server rather than s3rver.run(): its listen swallows errors
  // (a busy port hangs or crashes the process) and its close waits on idle keep-alive sockets.
  await s3rver.configureBuckets();
  const callback = s3rver.callback();
  const s3Api = (request: IncomingMessage, response: ServerResponse) => {
    // s3rver decodes the copy source with decodeURI, which leaves %3D, %2B and the like encoded;
    // re-encode so that it reads the key S3 would (the SDK encodes each segment as a component).
    const source = request.headers['x-amz-copy-source'];
    if (typeof source === 'string') request.headers['x-amz-copy-source'] = encodeURI(decodeURIComponent(source));
    return callback(request, response);
  };
  const intercept = options.intercept;
  const http = createServer(intercept ? (req, res) => intercept(req, res) || s3Api(req, res) : s3Api);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, '127.0.0.1', () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: S3Client[] = [];
  let closed = false;

  return {
    endpoint,
    port: address.port,
    directory,
    client() {
      const client = new S3Client(localClientConfig(endpoint));
      clients.push(client);
      return client;
    },
    onObjectCreated(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close() {
      if (closed) return;
      closed = true;
      listeners.clear();
      for (const client of clients) client.destroy();
      http.closeAllConnections();
      await new Promise<void>((resolve, reject) => http.close((error) => (error ? reject(error) : resolve())));
      if (ownsDirectory) await rm(directory, { recursive: true, force: true });
    },
  };
}

/** Creates buckets through the S3 API (ignores ones that exist). */
export async function ensureBuckets(client: S3Client, buckets: readonly string[]): Promise<void> {
  for (const Bucket of buckets) {
    await client.send(new CreateBucketCommand({ Bucket })).catch((error: { name?: string }) => {
      if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
    });
  }
}

/**
 * S3's conditional writes, which s3rver ignores: a PUT with `If-None-Match: *`
 * fails with 412 when the object exists, one with `If-Match: <etag>` when it
 * is at another ETag (404 when it is gone). Conditional PUTs of one key run
 * one at a time, so two writers racing on one key see exactly one succeed.
 */
function conditionalWrites(store: S3rverStore): S3rverMiddleware {
  const busy = new Map<string, Promise<void>>();
  return async (ctx, next) => {
    const ifMatch = ctx.get('if-match');
    const ifNoneMatch = ctx.get('if-none-match');
    if (ctx.method !== 'PUT' || (!ifMatch && !ifNoneMatch) || 'uploadId' in ctx.query) return next();
    const [bucket = '', ...rest] = ctx.path.slice(1).split('/').map(decodeURIComponent);
    const key = rest.join('/');
    const lock = `${bucket}/${key}`;
    const previous = busy.get(lock) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((done) => (release = done));
    const chained = previous.then(() => mine);
    busy.set(lock, chained);
    await previous;
    try {
      const current = await store.getMetadata(bucket, key).then(
        (metadata) => String(metadata.etag),
        () => undefined,
      );
      const failed = (status: number, code: string) => {
        ctx.status = status;
        ctx.type = 'application/xml';
        ctx.body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>`;
      };
      if (ifNoneMatch === '*' && current !== undefined) return failed(412, 'PreconditionFailed');
      if (ifMatch && current === undefined) return failed(404, 'NoSuchKey');
      if (ifMatch && current !== undefined && unquote(ifMatch) !== unquote(current)) {
        return failed(412, 'PreconditionFailed');
      }
      await next();
    } finally {
      release();
      if (busy.get(lock) === chained) busy.delete(lock);
    }
  };
}

const unquote = (eTag: string) => eTag.replace(/"/g, '');

interface S3rverContext {
  method: string;
  path: string;
  query: Record<string, unknown>;
  get(header: string): string;
  status: number;
  type: string;
  body: unknown;
}
type S3rverMiddleware = (ctx: S3rverContext, next: () => Promise<void>) => unknown;
interface S3rverStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
}

/** The parts of s3rver (a Koa app) its type declarations leave out. */
interface S3rverInternals {
  middleware: S3rverMiddleware[];
  store: S3rverStore;
  on(event: 'event', listener: (event: S3rverEvent) => void): void;
}

interface S3rverEvent {
  Records: Array<{
    eventName: string;
    requestParameters: { sourceIPAddress: string };
    s3: { bucket: { name: string }; object: { key: string } };
  }>;
}
