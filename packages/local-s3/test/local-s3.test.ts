import { createHash } from 'node:crypto';
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { S3EventRecord } from 'aws-lambda';
import { encodeEventKey, type LocalS3, startLocalS3 } from '../src';

describe('startLocalS3', () => {
  let s3: LocalS3;
  const records: S3EventRecord[] = [];

  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['raw'] });
    s3.onObjectCreated((record) => records.push(record));
  });
  afterAll(() => s3.close());
  beforeEach(() => {
    records.length = 0;
  });

  const nextRecord = async (): Promise<S3EventRecord> => {
    for (let i = 0; i < 200 && records.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    const record = records.shift();
    if (!record) throw new Error('no event within 2 s');
    return record;
  };

  it('serves objects over the S3 protocol on loopback', async () => {
    expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'a/b.csv', Body: 'x,y\n1,2\n' }));
    const got = await s3.client().send(new GetObjectCommand({ Bucket: 'raw', Key: 'a/b.csv' }));
    expect(await got.Body?.transformToString()).toBe('x,y\n1,2\n');
  });

  it('reports a PUT as an AWS-shaped ObjectCreated:Put record with a form-encoded key', async () => {
    const key = 'trips/my file+1 100%/été.csv';
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: 'id\n1\n' }));
    const record = await nextRecord();
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      eventName: 'ObjectCreated:Put',
      s3: {
        bucket: { name: 'raw', arn: 'arn:aws:s3:::raw' },
        object: {
          key: 'trips/my+file%2B1+100%25/%C3%A9t%C3%A9.csv',
          size: 5,
          eTag: expect.stringMatching(/^[0-9a-f]{32}$/),
        },
      },
    });
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
  });

  it('reports a completed multipart upload as ObjectCreated:CompleteMultipartUpload', async () => {
    const body = Buffer.alloc(11 * 1024 * 1024, 'a');
    await new Upload({
      client: s3.client(),
      params: { Bucket: 'raw', Key: 'big.bin', Body: body },
      partSize: 5 * 1024 * 1024,
    }).done();
    const record = await nextRecord();
    expect(record.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    expect(record.s3.object.size).toBe(body.length);
  });

  it("answers a copy over an existing key with the new content's ETag", async () => {
    const client = s3.client();
    const put = (key: string, body: string) =>
      client.send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: body }));
    const copy = (from: string) =>
      client.send(
        new CopyObjectCommand({
          Bucket: 'raw',
          Key: 'copy/dest',
          CopySource: `raw/${from}`,
          MetadataDirective: 'REPLACE',
          ContentType: 'text/plain',
        }),
      );
    const one = await put('copy/one', 'one');
    const two = await put('copy/two', 'two');

    expect((await copy('copy/one')).CopyObjectResult?.ETag).toBe(one.ETag);
    expect((await copy('copy/two')).CopyObjectResult?.ETag).toBe(two.ETag);
    const head = await client.send(new HeadObjectCommand({ Bucket: 'raw', Key: 'copy/dest' }));
    expect(head.ETag).toBe(two.ETag);
  });

  it('orders events for the same key with an increasing sequencer', async () => {
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'k', Body: '1' }));
    await s3.client().send(new PutObjectCommand({ Bucket: 'raw', Key: 'k', Body: '2' }));
    const [first, second] = [await nextRecord(), await nextRecord()];
    expect(second.s3.object.sequencer > first.s3.object.sequencer).toBe(true);
  });
  it('replaces an object as S3 does: a GET racing PUTs of the same key reads one whole version', async () => {
    const client = s3.client();
    const versions = ['a'.repeat(400_000), 'b'.repeat(10), 'c'.repeat(250_000)];
    await client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'racy.txt', Body: versions[0] }));
    const reads = Array.from({ length: 30 }, async () => {
      const got = await client.send(new GetObjectCommand({ Bucket: 'raw', Key: 'racy.txt' }));
      return { body: await got.Body?.transformToString(), eTag: got.ETag };
    });
    const writes = Array.from({ length: 30 }, (_, i) =>
      client.send(new PutObjectCommand({ Bucket: 'raw', Key: 'racy.txt', Body: versions[i % 3] })),
    );
    const [read] = await Promise.all([Promise.all(reads), Promise.all(writes)]);
    for (const { body, eTag } of read) {
      expect(versions).toContain(body);
      expect(eTag).toBe(
        `"${createHash('md5')
          .update(body as string)
          .digest('hex')}"`,
      );
    }
    await s3.client().send(new CopyObjectCommand({ Bucket: 'raw', Key: 'copy=1.txt', CopySource: 'raw/racy.txt' }));
    const copied = await client.send(new GetObjectCommand({ Bucket: 'raw', Key: 'copy=1.txt' }));
    expect(versions).toContain(await copied.Body?.transformToString());
  });
});

describe('startLocalS3 on a busy port', () => {
  it('rejects instead of hanging', async () => {
    const first = await startLocalS3({ buckets: [] });
    try {
      await expect(startLocalS3({ buckets: [], port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await first.close();
    }
  });
});

describe('encodeEventKey', () => {
  it.each([
    ['a b', 'a+b'],
    ['a+b', 'a%2Bb'],
    ['50%', '50%25'],
    ['dir/sub/ü.csv', 'dir/sub/%C3%BC.csv'],
  ])('%s -> %s', (key, encoded) => {
    expect(encodeEventKey(key)).toBe(encoded);
  });
});

describe('startLocalS3: conditional writes, as S3 does them', () => {
  let s3: LocalS3;
  beforeAll(async () => {
    s3 = await startLocalS3({ buckets: ['raw'] });
  });
  afterAll(() => s3.close());

  const put = (key: string, body: string, condition: { IfMatch?: string; IfNoneMatch?: string }) =>
    s3
      .client()
      .send(new PutObjectCommand({ Bucket: 'raw', Key: key, Body: body, ...condition }))
      .then(
        (response) => ({ ok: true, eTag: response.ETag }),
        (error: Error) => ({ ok: false, error: error.name }),
      );

  it('creates with If-None-Match: * only when there is no object, and replaces with If-Match only at that ETag', async () => {
    const created = await put('cond/a.json', '1', { IfNoneMatch: '*' });
    const again = await put('cond/a.json', '2', { IfNoneMatch: '*' });
    const stale = await put('cond/a.json', '3', { IfMatch: '"0123"' });
    const current = await put('cond/a.json', '4', { IfMatch: (created as { eTag: string }).eTag });
    const gone = await put('cond/missing.json', '5', { IfMatch: '"0123"' });

    expect(created.ok).toBe(true);
    expect(again).toEqual({ ok: false, error: 'PreconditionFailed' });
    expect(stale).toEqual({ ok: false, error: 'PreconditionFailed' });
    expect(current.ok).toBe(true);
    expect(gone).toEqual({ ok: false, error: 'NoSuchKey' });
    const got = await s3.client().send(new GetObjectCommand({ Bucket: 'raw', Key: 'cond/a.json' }));
    expect(await got.Body?.transformToString()).toBe('4');
  });

  it('lets exactly one of several racing creates win', async () => {
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => put('cond/race.json', String(i), { IfNoneMatch: '*' })),
    );

    expect(results.filter((result) => result.ok)).toHaveLength(1);
  });
});
