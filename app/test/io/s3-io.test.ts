import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type LocalS3, startLocalS3 } from '@lakehouse/local-s3';
import { SourceGoneError } from '../../src/errors';
import {
  copyObject,
  downloadRangeToFile,
  downloadToFile,
  getJsonIfExists,
  inParallel,
  putJson,
  uploadFile,
} from '../../src/io/s3-io';

describe('S3 transfers', () => {
  let s3: LocalS3;
  let dir: string;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['b'] });
    dir = await mkdtemp(join(tmpdir(), 's3-io-'));
  });
  afterAll(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (key: string, body: Buffer) =>
    s3.client().send(new PutObjectCommand({ Bucket: 'b', Key: key, Body: body }));

  describe('downloadToFile: parallel ranged GETs, each written at its offset', () => {
    const parts = { partBytes: 1000, concurrency: 3 };

    it.each([
      ['one byte', 1],
      ['under one part', 999],
      ['exactly two parts', 2000],
      ['many parts and a tail', 10_123],
    ])('%s (%d bytes) comes down byte for byte', async (_, size) => {
      const body = randomBytes(size);
      const { ETag } = await put(`obj-${size}`, body);
      const path = join(dir, `obj-${size}`);

      const downloaded = await downloadToFile(s3.client(), { bucket: 'b', key: `obj-${size}` }, path, parts);

      expect(await readFile(path)).toEqual(body);
      expect(downloaded).toMatchObject({ bytes: size, eTag: ETag?.replace(/"/g, '') });
    });

    it('reads an empty object whose size the event gave', async () => {
      await put('empty', Buffer.alloc(0));
      const path = join(dir, 'empty');

      const downloaded = await downloadToFile(s3.client(), { bucket: 'b', key: 'empty', size: 0 }, path, parts);

      expect(downloaded.bytes).toBe(0);
      expect(await readFile(path)).toEqual(Buffer.alloc(0));
    });

    it('says a missing object is gone', async () => {
      await expect(
        downloadToFile(s3.client(), { bucket: 'b', key: 'missing' }, join(dir, 'missing'), parts),
      ).rejects.toBeInstanceOf(SourceGoneError);
    });
  });

  describe('downloadRangeToFile: a chunk of an object version, after a prefix, in parallel parts', () => {
    it.each([
      ['inside one part', 10, 900],
      ['across several parts and a tail', 123, 4_567],
    ])('%s comes down byte for byte at its place', async (_, start, end) => {
      const body = randomBytes(5_000);
      const { ETag } = await put(`range-${start}`, body);
      const path = join(dir, `range-${start}`);
      const ref = { bucket: 'b', key: `range-${start}`, eTag: (ETag ?? '').replace(/"/g, '') };

      await downloadRangeToFile(s3.client(), ref, { start, end }, path, Buffer.from('header\n'), {
        partBytes: 1000,
        concurrency: 3,
      });

      expect(await readFile(path)).toEqual(Buffer.concat([Buffer.from('header\n'), body.subarray(start, end)]));
    });

    it('never mixes versions: an object replaced since the plan fails the download', async () => {
      const { ETag } = await put('replaced', randomBytes(3_000));
      await put('replaced', randomBytes(3_000));
      const ref = { bucket: 'b', key: 'replaced', eTag: (ETag ?? '').replace(/"/g, '') };

      await expect(
        downloadRangeToFile(s3.client(), ref, { start: 0, end: 3_000 }, join(dir, 'replaced'), undefined, {
          partBytes: 1000,
          concurrency: 3,
        }),
      ).rejects.toThrow(/changed since it was planned|PreconditionFailed/);
    });
  });

  it('uploads a file and copies it server-side, returning ETags', async () => {
    const body = randomBytes(5000);
    const path = join(dir, 'up');
    await put('source', body);
    await downloadToFile(s3.client(), { bucket: 'b', key: 'source' }, path);

    const uploaded = await uploadFile(s3.client(), 'b', 'uploaded', path, 'application/octet-stream');
    const copied = await copyObject(
      s3.client(),
      { bucket: 'b', key: 'uploaded', eTag: uploaded.eTag },
      { bucket: 'b', key: 'dir/copied' },
      'application/octet-stream',
    );

    const response = await s3.client().send(new GetObjectCommand({ Bucket: 'b', Key: 'dir/copied' }));
    expect(Buffer.from(await (response.Body?.transformToByteArray() ?? new Uint8Array()))).toEqual(body);
    expect(copied.eTag).toBe(uploaded.eTag);
  });

  it('reads back JSON, and nothing for a missing key', async () => {
    await putJson(s3.client(), 'b', 'doc.json', { a: 1 });
    expect(await getJsonIfExists(s3.client(), 'b', 'doc.json')).toEqual({ a: 1 });
    expect(await getJsonIfExists(s3.client(), 'b', 'nope.json')).toBeUndefined();
  });
});

describe('inParallel', () => {
  it('after a failure starts nothing new, and throws the first failure once the running work has settled', async () => {
    // A caller removes its work folder when this throws: a transfer still writing into it must be over by then.
    const events: string[] = [];
    const work = async (item: number) => {
      events.push(`start ${item}`);
      await sleep(item === 0 ? 5 : 40);
      events.push(`end ${item}`);
      if (item < 2) throw new Error(`item ${item} failed`);
    };

    await expect(inParallel([0, 1, 2, 3], 2, work)).rejects.toThrow('item 0 failed');

    expect(events).toEqual(['start 0', 'start 1', 'end 0', 'end 1']);
  });

  it('runs every item, at most the limit at a time', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await inParallel([1, 2, 3, 4, 5, 6, 7], 3, async (item) => {
      most = Math.max(most, ++running);
      await sleep(item % 3);
      running--;
      done.push(item);
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });
});
