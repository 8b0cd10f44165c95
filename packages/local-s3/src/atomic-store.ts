import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/** The parts of s3rver's filesystem store that object reads and writes go through. */
export interface FilesystemStore {
  getResourcePath(bucket: string, key: string, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  putMetadata(bucket: string, key: string, metadata: unknown, md5?: string): Promise<void>;
  getObject(bucket: string, key: string, options?: unknown): Promise<unknown>;
  putObject(object: { bucket: string; key: string; content: Buffer | Readable; metadata: unknown }): Promise<{
    size: number;
    md5: string;
  }>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata?: unknown,
  ): Promise<Record<string, string>>;
}

/**
 * S3 replaces an object atomically; s3rver rewrites its file in place, so a
 * GET racing a PUT of the same key reads a cut file under the old length (the
 * response is aborted) or new bytes under old metadata. Here the bytes go to
 * a temp file renamed over the old one (a reader keeps the file it opened),
 * and per key a replacement never interleaves with a GET's metadata read and open.
 */
export function makeObjectWritesAtomic(store: FilesystemStore): void {
  const tails = new Map<string, Promise<unknown>>();
  const exclusive = <T>(bucket: string, key: string, work: () => Promise<T>): Promise<T> => {
    const id = `${bucket}/${key}`;
    const run = (tails.get(id) ?? Promise.resolve()).catch(() => undefined).then(work);
    tails.set(id, run);
    void run
      .finally(() => {
        if (tails.get(id) === run) tails.delete(id);
      })
      .catch(() => undefined);
    return run;
  };
  const temp = (path: string) => `${path}.${randomUUID()}.tmp`;

  const getObject = store.getObject.bind(store);
  store.getObject = (bucket, key, options) => exclusive(bucket, key, () => getObject(bucket, key, options));

  store.putObject = async ({ bucket, key, content, metadata }) => {
    const path = store.getResourcePath(bucket, key, 'object');
    await mkdir(dirname(path), { recursive: true });
    const staged = temp(path);
    const md5 = createHash('md5');
    let size = 0;
    try {
      if (Buffer.isBuffer(content)) {
        await writeFile(staged, content);
        md5.update(content);
        size = content.length;
      } else {
        const measure = new Transform({
          transform(chunk: Buffer, _encoding, done) {
            md5.update(chunk);
            size += chunk.length;
            done(null, chunk);
          },
        });
        await pipeline(content, measure, createWriteStream(staged));
      }
      const digest = md5.digest('hex');
      await exclusive(bucket, key, async () => {
        await rename(staged, path);
        await store.putMetadata(bucket, key, metadata, digest);
      });
      return { size, md5: digest };
    } finally {
      await rm(staged, { force: true });
    }
  };

  const copyObject = store.copyObject.bind(store);
  store.copyObject = async (srcBucket, srcKey, destBucket, destKey, replacementMetadata) => {
    const source = store.getResourcePath(srcBucket, srcKey, 'object');
    const target = store.getResourcePath(destBucket, destKey, 'object');
    if (source === target) return copyObject(srcBucket, srcKey, destBucket, destKey, replacementMetadata);
    await mkdir(dirname(target), { recursive: true });
    const staged = temp(target);
    try {
      await copyFile(source, staged);
      return await exclusive(destBucket, destKey, async () => {
        await rename(staged, target);
        const md5 = store.getResourcePath(destBucket, destKey, 'object.md5');
        await copyFile(store.getResourcePath(srcBucket, srcKey, 'object.md5'), md5);
        if (replacementMetadata) {
          await store.putMetadata(destBucket, destKey, replacementMetadata);
        } else {
          await copyFile(
            store.getResourcePath(srcBucket, srcKey, 'metadata.json'),
            store.getResourcePath(destBucket, destKey, 'metadata.json'),
          );
        }
        return store.getMetadata(destBucket, destKey);
      });
    } finally {
      await rm(staged, { force: true });
    }
  };
}
